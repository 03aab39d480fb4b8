"""One-click buttons on an admin change page (mark done, sign off, approve PPAP, record a test result): each is a
small POST form above the page that runs one method of the ModelAdmin, which calls the same service as the list's
action and reports the outcome, refusals included, as the admin's messages.

    class PartAdmin(ObjectButtons, admin.ModelAdmin):
        object_buttons = ["approve_ppap_button"]

        @object_button("Approve PPAP", shown=lambda part: part.ppap_status != PPAPStatus.APPROVED)
        def approve_ppap_button(self, request, part, text): ...

A button with `text=("note", "Result note")` carries a one-line text field (a reason, a note) passed as `text`.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse


def object_button(label: str, *, shown=None, text: tuple[str, str] | None = None, tone: str = "default"):
    """Marks a ModelAdmin method `(self, request, obj, text)` as a change-page button. `shown(obj)` hides it where
    it does not apply (an approved part has no "Approve PPAP")."""

    def mark(method):
        method.button_label, method.button_shown, method.button_text, method.button_tone = label, shown, text, tone
        return method

    return mark


class ObjectButtons:
    change_form_template = "admin/object_buttons_change_form.html"
    object_buttons: list[str] = []

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.object_button_view)
        own = [path("<path:object_id>/button/<str:name>/", view, name="{}_{}_button".format(*info))]
        return own + super().get_urls()  # before the admin's catch-all `<path:object_id>/`

    def object_button_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in self.object_buttons:
            raise Http404("No such button.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such object.")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        method = getattr(self, name)
        text = request.POST.get(method.button_text[0], "").strip() if method.button_text else None
        method(request, obj, text)
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))

    def object_buttons_for(self, request, obj) -> list[dict]:
        if obj is None or not self.has_change_permission(request, obj):
            return []
        info = self.opts.app_label, self.opts.model_name
        buttons = []
        for name in self.object_buttons:
            method = getattr(self, name)
            if method.button_shown is not None and not method.button_shown(obj):
                continue
            buttons.append(
                {
                    "name": name,
                    "label": method.button_label,
                    "url": reverse("admin:{}_{}_button".format(*info), args=[obj.pk, name]),
                    "text": method.button_text,
                    "tone": method.button_tone,
                }
            )
        return buttons

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["object_buttons"] = [] if add else self.object_buttons_for(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
