from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views
from .views import CODE_REGEX

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("programs", views.ProgramViewSet, basename="program")
router.register(rf"programs/(?P<program_code>{CODE_REGEX})/ramp-steps", views.RampStepViewSet, basename="rampstep")
router.register("blockers", views.BlockerViewSet, basename="blocker")
router.register("calendars", views.WorkCalendarViewSet, basename="calendar")

urlpatterns = [
    path("", include((router.urls, "sopgate-api"))),
    path("", include("parts.api.urls")),
    path("", include("validation.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the strict CSP (no inline scripts) holds.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
