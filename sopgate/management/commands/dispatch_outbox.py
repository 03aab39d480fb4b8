from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from sopgate.services import outbox_dispatch


class Command(BaseCommand):
    help = "Queue every re-scan and alert still waiting in the database outbox (beat does this every minute)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--redispatch-after",
            type=int,
            default=300,
            help="Queue again what was queued this many seconds ago and is still not done (default 300).",
        )

    def handle(self, *args, redispatch_after, **options):
        scans, alerts = outbox_dispatch(redispatch_after_s=redispatch_after)
        self.stdout.write(f"queued {scans} scan{pluralize(scans)} and {alerts} alert{pluralize(alerts)}")
