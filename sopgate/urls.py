from django.contrib import admin
from django.urls import include, path

from sopgate import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sopgate.api.urls")),
    path("health/", health.health, name="health"),
    path("supplier/", include("portal.urls")),
    path("", include("sopgate.dashboard.urls")),
]

# Under /api/, a request Django refuses before any view (an unknown path, a body over the size limit) is answered
# in JSON too.
handler400 = "sopgate.api.errors.bad_request"
handler404 = "sopgate.api.errors.page_not_found"
