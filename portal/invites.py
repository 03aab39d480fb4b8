"""The invitation a new supplier user gets: an email with a link to set its password, made by Django's password
reset machinery (`PasswordResetTokenGenerator`, `PasswordResetForm.send_mail`). The link is good until the
password is set or PASSWORD_RESET_TIMEOUT passes; a new invite (or the portal's "forgot password") gives another."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .forms import SupplierPasswordResetForm


def supplier_user_invite(*, user, language: str = settings.LANGUAGE_CODE) -> str:
    """Email `user` (a supplier's login with an email address) a link to set its password, in `language`; returns
    the link."""
    if not user.email:
        raise ValueError(f"{user.get_username()} has no email address to send the invitation to.")
    with translation.override(language):
        path = reverse(
            "portal:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        link = f"{settings.SITE_URL}{path}"
        context = {
            "user": user,
            "supplier": user.supplier_membership.supplier,
            "link": link,
            "login_url": f"{settings.SITE_URL}{reverse('portal:login')}",
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        SupplierPasswordResetForm().send_mail(
            "portal/emails/invite_subject.txt",
            "portal/emails/invite.txt",
            context,
            settings.DEFAULT_FROM_EMAIL,
            user.email,
        )
    return link
