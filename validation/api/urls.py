from rest_framework.routers import DefaultRouter

from . import views

app_name = "validation-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("validation-tests", views.ValidationTestViewSet, basename="validationtest")
router.register("handover-checklists", views.HandoverChecklistViewSet, basename="handoverchecklist")
router.register("handover-items", views.HandoverItemViewSet, basename="handoveritem")

urlpatterns = router.urls
