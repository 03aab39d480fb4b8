from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.i18n import set_language

from . import sheet_views, views
from .forms import SupplierPasswordResetForm

app_name = "portal"


class LoginView(auth_views.LoginView):
    """Django's login (django-axes counts its failures; inactive users and suppliers are refused by the
    backend), landing on the portal."""

    template_name = "portal/login.html"
    next_page = reverse_lazy("portal:index")


urlpatterns = [
    path("", views.part_list, name="index"),
    path("parts/<int:part_id>/", views.part_detail, name="part"),
    path("parts/<int:part_id>/capacity/", views.part_capacity_line_add, name="part_capacity_line_add"),
    path(
        "parts/<int:part_id>/capacity/<int:line_id>/delete/",
        views.part_capacity_line_delete,
        name="part_capacity_line_delete",
    ),
    path("parts/<int:part_id>/run-at-rate/", views.part_run_at_rate, name="part_run_at_rate"),
    path("parts/<int:part_id>/files/", views.part_file_upload, name="part_file_upload"),
    path("parts/<int:part_id>/files/<int:file_id>/", views.part_file_download, name="part_file"),
    path("parts.xlsx", sheet_views.parts_xlsx, name="parts_xlsx"),
    path("upload/", sheet_views.sheet_upload, name="sheet_upload"),
    path("upload/confirm/", sheet_views.sheet_confirm, name="sheet_confirm"),
    path("language/", set_language, name="set_language"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login")), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            form_class=SupplierPasswordResetForm,
            template_name="portal/password_reset_form.html",
            email_template_name="portal/emails/password_reset.txt",
            subject_template_name="portal/emails/password_reset_subject.txt",
            success_url=reverse_lazy("portal:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
