from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from parts.services import api_token_issue
from sopgate.demo.load import DEMO_PASSWORD, existing_demo, load_demo
from sopgate.selectors import program_readiness
from sopgate.services import program_scan, program_snapshot


class Command(BaseCommand):
    help = (
        "Load the SU7 demo program (dates relative to today) where it is missing; an existing one, and what anyone "
        "changed in it, is kept unless --refresh is given. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Reset the demo to today's story (its dates move with today), undoing changes made to it.",
        )
        parser.add_argument(
            "--yes-demo-logins",
            action="store_true",
            help="Load the demo even with DEBUG off, although its logins and password are public.",
        )

    def handle(self, *args, refresh=False, yes_demo_logins=False, **options):
        if not settings.DEBUG and not yes_demo_logins:
            raise CommandError(
                f"The demo creates logins with a public password ('{DEMO_PASSWORD}'), and DEBUG is off, so this "
                "may be a real installation. Pass --yes-demo-logins to load it anyway."
            )
        result = None if refresh else existing_demo()
        token = None
        if result is None:
            result = load_demo()
            if result.created:
                token = api_token_issue(user=get_user_model().objects.get(username=result.supplier_username))
            program_scan(program_id=result.program.pk)
            program_snapshot(program_id=result.program.pk)  # today's point of the trend chart
            verb = "Loaded" if result.created else "Refreshed"
        else:
            verb = "Kept"
        readiness = program_readiness(result.program)
        self.stdout.write(
            f"{verb} demo program {result.program.code} ({result.program.name}), SOP {result.program.sop_date}: "
            f"{readiness.decision}, readiness {readiness.readiness_pct}%, "
            f"{readiness.blocking_count} blocking / {readiness.warning_count} warnings."
            + (" (seed_demo --refresh resets it to today's story.)" if verb == "Kept" else "")
        )
        self.stdout.write(f"Engineer login: {result.engineer_username} / {DEMO_PASSWORD}")
        # A token is shown once, when issued: the demo's first load issues one; later runs say how to get another.
        api = f"API token: {token}" if token else f"API token: manage.py create_api_token {result.supplier_username}"
        self.stdout.write(
            f"Supplier login: {result.supplier_username} / {DEMO_PASSWORD} (supplier {result.supplier_code}), {api}"
        )
