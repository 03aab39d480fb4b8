from django.core.management.base import BaseCommand

from sopgate.demo import DEMO_PASSWORD, existing_demo, load_demo
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

    def handle(self, *args, refresh=False, **options):
        result = None if refresh else existing_demo()
        if result is None:
            result = load_demo()
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
        self.stdout.write(
            f"Supplier login: {result.supplier_username} / {DEMO_PASSWORD} (supplier {result.supplier_code}), "
            f"API token: {result.supplier_token}"
        )
