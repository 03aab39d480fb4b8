from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.program_list, name="index"),
    path("programs/<str:code>/", views.program_detail, name="program"),
    path("programs/<str:code>/report.csv", views.report_csv, name="report_csv"),
    path("programs/<str:code>/report.xlsx", views.report_xlsx, name="report_xlsx"),
]
