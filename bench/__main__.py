"""SOPGate benchmarks: `python -m bench --size program|oem` (or `make bench` / `make bench-oem`).

Every figure is a ratio against a baseline measured in the same run on the same data, because these machines
are shared and noisy. Each case: a warm-up, then the median of at least 7 timed runs of the case and of its
baseline, alternated, for at least 3 s (bench.runner.MIN_SECONDS_PER_CASE), and the case's query count.
Prints a table and writes bench/results.json (bench/results-oem.json at OEM size).
"""

import argparse
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sopgate.settings")

RESULT_FILES = {"program": "results.json", "oem": "results-oem.json"}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=["program", "oem"], default="program")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the benchmark database")
    parser.add_argument("--load-seconds", type=float, default=15.0, help="HTTP load duration (max 30)")
    parser.add_argument("--database", help="name of the benchmark database (default sopgate_bench_<size>)")
    parser.add_argument(
        "--output", help="where to write the results (bench/results.json, at OEM size results-oem.json)"
    )
    args = parser.parse_args()
    args.output = args.output or str(Path(__file__).with_name(RESULT_FILES[args.size]))
    args.runs = max(args.runs, 7)
    args.load_seconds = min(max(args.load_seconds, 1.0), 30.0)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        print("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://... (targets are for PostgreSQL).")
        return 2
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = args.database or f"sopgate_bench_{args.size}"

    from bench.runner import MIN_SECONDS_PER_CASE, run

    with connection._nodb_cursor() as cursor:  # the configured database need not exist; the bench makes its own
        server_version = cursor.connection.info.server_version
    results = run(args)
    results["meta"] = {
        "size": args.size,
        "date": date.today().isoformat(),
        "runs": f"at least {args.runs}, and for at least {MIN_SECONDS_PER_CASE} s per case",
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "postgres": server_version,
    }
    Path(args.output).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {args.output}")
    failed = [k for k, v in results["cases"].items() if v.get("target") and v["ratio"] > v["target"]]
    if failed:
        print(f"targets missed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
