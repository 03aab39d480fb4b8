from django.core.management.base import BaseCommand

from sopgate.demo import DEMO_PASSWORD, load_demo
from sopgate.selectors import program_readiness
from sopgate.services import program_scan, program_snapshot


class Command(BaseCommand):
    help = "Load the SU7 demo program (dates relative to today). Safe to run twice."

    def handle(self, *args, **options):
        result = load_demo()
        program_scan(program_id=result.program.pk)
        program_snapshot(program_id=result.program.pk)  # today's point of the trend chart
        readiness = program_readiness(result.program)
        verb = "Loaded" if result.created else "Refreshed"
        self.stdout.write(
            f"{verb} demo program {result.program.code} ({result.program.name}), SOP {result.program.sop_date}: "
            f"{readiness.decision}, readiness {readiness.readiness_pct}%, "
            f"{readiness.blocking_count} blocking / {readiness.warning_count} warnings."
        )
        self.stdout.write(f"Engineer login: {result.engineer_username} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"Supplier login: {result.supplier_username} / {DEMO_PASSWORD} (supplier {result.supplier_code}), "
            f"API token: {result.supplier_token}"
        )
