"""Peak memory of scanning every program: `python -m bench.memory` (DATABASE_URL names the bench database).

Reports the process's peak RSS and, separately, the peak of Python allocations during the scans (tracemalloc),
since RSS after Django's start-up already covers small scans.
"""

import json
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sopgate.settings")


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux the high-water mark of its own address space (VmHWM):
    `ru_maxrss` also counts what the process held before `exec`, and started from `subprocess` by the benchmark,
    that is the benchmark's own resident memory at the fork (120-170 MB), not the scan's."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (2**20 if sys.platform == "darwin" else 1024)  # bytes on macOS, kilobytes elsewhere


def main() -> None:
    import django

    django.setup()
    from sopgate.models import Program
    from sopgate.services import program_scan

    program_ids = list(Program.objects.values_list("id", flat=True))
    idle = peak_rss_mb()
    started = time.perf_counter()
    for program_id in program_ids:
        program_scan(program_id=program_id)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    tracemalloc.start()
    for program_id in program_ids:  # the re-scan, nothing changed
        program_scan(program_id=program_id)
    _, rescan_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "idle_rss_mb": idle,
                "growth_mb": peak - idle,
                "rescan_python_peak_mb": rescan_peak / 2**20,
            }
        )
    )


if __name__ == "__main__":
    main()
