from django.contrib import admin
from django.urls import include, path

from sopgate import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sopgate.api.urls")),
    path("health/", health.health, name="health"),
    path("", include("sopgate.dashboard.urls")),
]
