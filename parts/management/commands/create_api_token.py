from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from parts.services import api_token_issue


class Command(BaseCommand):
    help = (
        "Issue an API token for an existing user and print it (once: only its digest is stored); --rotate revokes "
        "the user's other tokens."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Revoke the user's other tokens.")

    def handle(self, *args, username, rotate, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Unknown user '{username}'.")
        self.stdout.write(api_token_issue(user=user, revoke_others=rotate))
