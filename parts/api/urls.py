from rest_framework.routers import DefaultRouter

from . import views

app_name = "parts-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("parts", views.PartViewSet, basename="part")
router.register("supplier-updates", views.SupplierUpdateViewSet, basename="supplierupdate")

urlpatterns = router.urls
