"""Peak memory of scanning every program: `python -m bench.memory` (DATABASE_URL names the bench database)."""

import json
import os
import resource
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sopgate.settings")


def main() -> None:
    import django

    django.setup()
    from sopgate.models import Program
    from sopgate.services import program_scan

    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    for program_id in Program.objects.values_list("id", flat=True):
        program_scan(program_id=program_id)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "idle_rss_mb": idle, "growth_mb": peak - idle}))


if __name__ == "__main__":
    main()
