from django.urls import path
from rest_framework.routers import DefaultRouter

from . import files, views

app_name = "parts-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("parts", views.PartViewSet, basename="part")
router.register("supplier-updates", views.SupplierUpdateViewSet, basename="supplierupdate")
router.register("capacity-lines", views.CapacityLineViewSet, basename="capacityline")

part_files = files.PartFileViewSet.as_view({"get": "list", "post": "create"})
part_file_content = files.PartFileViewSet.as_view({"get": "content"})

urlpatterns = [
    *router.urls,
    path("parts/<int:part_pk>/files/", part_files, name="part-file-list"),
    path("parts/<int:part_pk>/files/<int:pk>/content/", part_file_content, name="part-file-content"),
]
