"""A handover item's evidence files in the admin: listed on the checklist's items and the item's page, attached
there by an engineer within the limits (`parts.services.evidence_file_refusal`, also on the form) and by who may
(`services.item_check_attacher`); added through `services.item_file_add`, never changed or removed."""

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from parts.services import evidence_file_refusal
from sopgate.roles import NotPermitted

from .. import services
from ..models import HandoverItem, HandoverItemFile


def clean_upload(form, field: str) -> None:
    """The size and type limits on `form`'s upload `field`, as the form's error; then, the item as the form is
    about to save it, who may attach to it."""
    upload = form.cleaned_data.get(field)
    if not upload:
        return
    refusal = evidence_file_refusal(upload)
    if refusal:
        form.add_error(field, refusal)
        return
    item = form.instance if isinstance(form.instance, HandoverItem) else form.instance.item
    if form.actor is not None:
        try:
            services.item_check_attacher(item=item, actor=form.actor)
        except NotPermitted as refused:
            form.add_error(field, refused.message)


def files_list(item: HandoverItem) -> str:
    """The item's files (prefetched as `files`) as download links, newest first."""
    return render_to_string("admin/validation/item_files.html", {"files": item.files.all()})


def actor_form(form_class, request):
    """`form_class` knowing who saves it: the check of who may attach runs on the form."""
    return type(form_class.__name__, (form_class,), {"actor": request.user})


class HandoverItemFileForm(forms.ModelForm):
    actor = None  # set per request by HandoverItemFileInline.get_formset

    class Meta:
        model = HandoverItemFile
        fields = ["file"]

    def _post_clean(self):
        super()._post_clean()  # the instance's item is the item as its page is about to save it
        clean_upload(self, "file")


class HandoverItemFileInline(admin.TabularInline):
    """The item's evidence files on its page: attach one (the responsible person or a checklist owner)."""

    model = HandoverItemFile
    form = HandoverItemFileForm
    fields = ["file", "download", "size", "uploaded_by_username", "uploaded_at"]
    readonly_fields = ["download", "size", "uploaded_by_username", "uploaded_at"]
    extra = 0
    verbose_name = "evidence file"
    verbose_name_plural = "evidence files"

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, form=actor_form(self.form, request), **kwargs)

    @admin.display(description="name")
    def download(self, obj):
        if obj.pk is None:
            return ""
        url = reverse("validation-api:handover-item-file-content", kwargs={"item_pk": obj.item_id, "pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, obj.name)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def save_item_files(request, formset) -> None:
    """Add the files of the inline's new rows through the service (as `formset.save()` would leave the formset for
    the admin's change message: the rows added, none changed or deleted)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for row in formset.extra_forms:
        if row.has_changed() and row.cleaned_data.get("file"):
            upload = row.cleaned_data["file"]
            formset.new_objects.append(
                services.item_file_add(item=row.instance.item, actor=request.user, upload=upload)
            )
