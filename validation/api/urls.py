from django.urls import path
from rest_framework.routers import DefaultRouter

from . import files, views

app_name = "validation-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("validation-tests", views.ValidationTestViewSet, basename="validationtest")
router.register("handover-checklists", views.HandoverChecklistViewSet, basename="handoverchecklist")
router.register("handover-items", views.HandoverItemViewSet, basename="handoveritem")

item_files = files.HandoverItemFileViewSet.as_view({"get": "list", "post": "create"})
item_file_content = files.HandoverItemFileViewSet.as_view({"get": "content"})

urlpatterns = [
    *router.urls,
    path("handover-items/<int:item_pk>/files/", item_files, name="handover-item-file-list"),
    path("handover-items/<int:item_pk>/files/<int:pk>/content/", item_file_content, name="handover-item-file-content"),
]
