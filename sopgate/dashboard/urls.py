from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.program_list, name="index"),
    path("programs/<str:code>/", views.program_detail, name="program"),
]
