from django.core.management.base import BaseCommand, CommandError

from sopgate.models import Program
from sopgate.selectors import program_readiness
from sopgate.services import program_scan


class Command(BaseCommand):
    help = "Run the gate scan now (the code the Celery task runs) and print each program's decision."

    def add_arguments(self, parser):
        parser.add_argument("--program", help="Program code; default: every program not archived.")

    def handle(self, *args, program=None, **options):
        programs = Program.objects.order_by("code")
        if program:
            programs = programs.filter(code=program)
        else:
            programs = programs.active()
            if not programs.exists():
                raise CommandError(f"Unknown program code '{program}'.")
        for item in programs:
            result = program_scan(program_id=item.pk)
            readiness = program_readiness(item)
            by_rule = ", ".join(f"{rule} {n}" for rule, n in readiness.counts["by_rule"].items()) or "none"
            forecast = readiness.forecast_sop_date or "unknown"
            self.stdout.write(
                f"{item.code}: {readiness.decision} | readiness {readiness.readiness_pct}% | "
                f"{readiness.blocking_count} blocking, {readiness.warning_count} warnings | "
                f"opened {result.opened}, resolved {result.resolved} | forecast SOP {forecast}"
            )
            self.stdout.write(f"  blockers by rule: {by_rule}")
            self.stdout.write(f"  {readiness.decision_sentence}")
            self.stdout.write(f"  forecast: {readiness.forecast_reason}")
            blocking = [b for b in readiness.blockers if b.severity == "blocking"]
            for blocker in blocking[:10]:
                self.stdout.write(f"  ✖ {blocker.rule}: {blocker.message}")
            if len(blocking) > 10:
                self.stdout.write(f"  … and {len(blocking) - 10} more blocking")
