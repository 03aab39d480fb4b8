from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from parts.models import Supplier, SupplierUser
from parts.services import api_token_issue
from validation.ownership import supplier_membership_refusal


class Command(BaseCommand):
    help = (
        "Create (or reuse) a supplier's API user and print a new API token on the last line (shown once: only its "
        "digest is stored)."
    )

    def add_arguments(self, parser):
        parser.add_argument("supplier_code")
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args, supplier_code, username, email, **options):
        supplier = Supplier.objects.filter(code=supplier_code).first()
        if supplier is None:
            raise CommandError(f"Unknown supplier code '{supplier_code}'.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email: '{email}' is not a valid email address.") from None
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        membership = SupplierUser.objects.filter(user=user).select_related("supplier").first()
        refusal = None if membership else supplier_membership_refusal(user)
        if refusal:
            raise CommandError(refusal)
        if membership and membership.supplier_id != supplier.pk:
            raise CommandError(f"User '{username}' already belongs to supplier {membership.supplier.code}.")
        if membership is None:
            SupplierUser.objects.create(user=user, supplier=supplier)
        if email and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        token = api_token_issue(user=user)
        self.stdout.write(f"{'Created' if created else 'Reused'} user {username} for supplier {supplier.code}.")
        self.stdout.write(token)
