from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from parts.models import Supplier, SupplierUser
from parts.services import api_token_issue
from portal.invites import supplier_user_invite
from validation.ownership import supplier_membership_refusal


class Command(BaseCommand):
    help = (
        "Create (or reuse) a supplier's user and print a new API token on the last line (shown once: only its "
        "digest is stored). With --invite, email the user a link to set its password for the supplier portal "
        "(/supplier/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("supplier_code")
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--invite", action="store_true", help="Email a link to set the password for the supplier portal."
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="The invitation's language.",
        )

    def handle(self, *args, supplier_code, username, email, invite=False, language=settings.LANGUAGE_CODE, **options):
        supplier = Supplier.objects.filter(code=supplier_code).first()
        if supplier is None:
            raise CommandError(f"Unknown supplier code '{supplier_code}'.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email: '{email}' is not a valid email address.") from None
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        if invite and not (email or user.email):
            raise CommandError(f"--invite: {username} has no email address; give one with --email.")
        membership = SupplierUser.objects.filter(user=user).select_related("supplier").first()
        refusal = None if membership else supplier_membership_refusal(user)
        if refusal:
            raise CommandError(refusal)
        if membership and membership.supplier_id != supplier.pk:
            raise CommandError(f"User '{username}' already belongs to supplier {membership.supplier.code}.")
        if membership is None:
            SupplierUser.objects.create(user=user, supplier=supplier)
        if created:
            user.set_unusable_password()  # until the user sets one through the invitation's link
            user.save(update_fields=["password"])
        if email and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        token = api_token_issue(user=user)
        self.stdout.write(f"{'Created' if created else 'Reused'} user {username} for supplier {supplier.code}.")
        if invite:
            user.refresh_from_db()
            supplier_user_invite(user=user, language=language)
            self.stdout.write(f"Emailed {user.email} a link to set the password for the supplier portal.")
        self.stdout.write(token)
