"""The benchmark cases. Each pairs the code under test with a baseline that computes the same answer."""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench import raw_sql
from bench.checks import ramp_coverage_checked, scan_checked
from bench.generate import SIZES, generate
from parts.services import api_token_issue

# Issue 17: targets that value idiomatic code over millisecond wins.
TARGETS = {
    "scan": 3.0,
    "scan_reconcile": 1.5,
    "part_list_100": 3.0,
    "part_list_1000": 3.5,
    "bulk_update_500": 3.0,
    "dashboard": 3.0,
    "ramp_coverage": 3.0,
}
PART_FIELDS = (
    "id",
    "program__code",
    "part_number",
    "revision",
    "name",
    "supplier__code",
    "owner__username",
    "criticality",
    "qty_per_vehicle",
    "need_date",
    "promised_date",
    "received_on",
    "ppap_status",
    "ppap_level",
    "ppap_due_date",
    "interim_expires_on",
    "tooling_stage",
    "capacity_per_week",
    "last_supplier_update_at",
    "late",
)


# Each case runs at least `--runs` times and, for the fast ones, until it has taken this long: a median of
# 7 runs of a 5 ms case on a shared machine moved by a tenth from one run of the benchmark to the next. At 1 s
# the program page (~45 pairs of page and baseline) still did: twelve such medians in a row, in one process,
# gave ratios from 1.41 to 1.53; medians of three times as many pairs, 1.465 to 1.484.
MIN_SECONDS_PER_CASE = 3.0
MAX_RUNS = 1000  # a 3 ms case reaches 3 s


def timed_pair(case, baseline, runs: int) -> tuple[float, float, float, float]:
    """Warm both up, then alternate them so that drift in machine load hits both alike; return the medians of
    their elapsed times, then of the CPU time each spent in this process (the rest is waiting, mostly for the
    database: the part that case and baseline share)."""
    case()
    baseline()
    case_times, base_times, case_cpu, base_cpu = [], [], [], []
    while len(case_times) < runs or (sum(case_times) < MIN_SECONDS_PER_CASE and len(case_times) < MAX_RUNS):
        for fn, times, cpu in ((case, case_times, case_cpu), (baseline, base_times, base_cpu)):
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            cpu.append(time.thread_time() - start_cpu)
            times.append(time.perf_counter() - start)
    return tuple(map(statistics.median, (case_times, base_times, case_cpu, base_cpu)))


def count_queries(fn) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        value = fn()
    return len(ctx.captured_queries), value


def captured_statements(fn) -> list[str]:
    """The SQL that `fn` runs, as sent (parameters in place)."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [query["sql"] for query in ctx.captured_queries]


def replay(statements: list[str]) -> None:
    """Run `statements` raw, one after the other, and fetch their rows: every result set of a query that holds
    several statements."""
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            while True:
                if cursor.description is not None:  # BEGIN, COMMIT and an UPDATE return no rows
                    cursor.fetchall()
                if not cursor.nextset():
                    break


def _verdict(entry: dict) -> str:
    if not entry["target"]:
        return "(no target)"
    return "ok" if entry["ratio"] <= entry["target"] else "MISSED"


def record(results, name, case, baseline, runs, rows):
    queries, _ = count_queries(case)
    median, base, cpu, base_cpu = timed_pair(case, baseline, runs)
    results[name] = {
        "median_s": round(median, 6),
        "baseline_median_s": round(base, 6),
        "ratio": round(median / base, 3) if base else None,
        "queries": queries,
        "rows": rows,
        "target": TARGETS.get(name),
        "cpu_s": round(cpu, 6),  # of this process: Python, Django, the driver; not the database server's
        "baseline_cpu_s": round(base_cpu, 6),
    }
    entry = results[name]
    print(
        f"{name:<26} {entry['median_s'] * 1000:>10.1f} {entry['baseline_median_s'] * 1000:>10.1f} "
        f"{entry['ratio']:>7.2f} {('≤ ' + str(entry['target'])) if entry['target'] else '':>7} "
        f"{queries:>8} {rows:>8} {cpu * 1000:>8.1f} {base_cpu * 1000:>8.1f}  {_verdict(entry)}",
        flush=True,
    )


def run(args) -> dict:
    from django.contrib.auth import get_user_model

    from parts.models import Part
    from sopgate.gate.coverage import program_ramp
    from sopgate.gate.findings import program_findings
    from sopgate.models import Blocker, Program
    from sopgate.services import program_scan

    creation = connection.creation
    db_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep, serialize=False)
    print(f"database {db_name}", flush=True)
    today = timezone.localdate()
    try:
        if not Program.objects.filter(code="BENCH00").exists():
            started = time.perf_counter()
            generate(args.size, today=today)
            print(f"generated {args.size} data in {time.perf_counter() - started:.1f} s", flush=True)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        programs = list(Program.objects.order_by("code"))
        program = programs[0]
        size = SIZES[args.size]
        print(
            f"{len(programs)} programs, {Part.objects.count():,} parts, program {program.code} has "
            f"{Part.objects.filter(program=program).count():,} parts",
            flush=True,
        )

        engineer, _ = get_user_model().objects.get_or_create(username="bench-engineer", defaults={"is_staff": True})
        engineer.is_staff = True
        engineer.save()
        token = api_token_issue(user=engineer, revoke_others=True)
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        browser = Client()
        browser.force_login(engineer)

        results: dict = {"cases": {}}
        cases = results["cases"]
        print(
            f"\n{'case':<26} {'median ms':>10} {'base ms':>10} {'ratio':>7} {'target':>7} {'queries':>8} {'rows':>8} {'cpu ms':>8} {'base cpu':>8}"
        )

        # --- scan: every rule for one program vs one hand-written statement ---------------------------
        # What a scan evaluates: every finding with its message and fingerprint (`program_findings`: four queries
        # and the weekly arithmetic for the ramp week by week, one ORM query per kind of object). The baseline:
        # the same ramp Python (`program_ramp`, the fastest hand-written way we have to the weekly figures; see
        # docs/PERFORMANCE.md) and one statement for every rule. Checked to find the same violations first.
        found = scan_checked(program, today, ramp_in_sql=args.size == "program")
        weeks, params = program_ramp(program), raw_sql.scan_params(program, today)
        scan_cases = {
            "scan": lambda: raw_sql.scan_raw(raw_sql.scan_params(program, today)),
            # Not targets. Against a statement that also returns the columns a finding carries; both without the
            # weekly arithmetic they share (the ramp worked out once, before the timing, for both: what the ORM
            # costs over the statement for the rest); at program size against the ramp worked out in SQL.
            "scan_vs_columns": lambda: raw_sql.scan_raw(
                raw_sql.scan_params(program, today), raw_sql.SCAN_WITH_COLUMNS_SQL
            ),
            "scan_without_ramp": lambda: raw_sql.scan_raw(params),
        }
        if args.size == "program":  # ≈ 10 × the scan: too long at OEM size
            scan_cases["scan_vs_ramp_in_sql"] = lambda: raw_sql.scan_raw(
                raw_sql.scan_ramp_in_sql_params(program, today), raw_sql.SCAN_RAMP_IN_SQL
            )
        for name, baseline in scan_cases.items():
            shared = name == "scan_without_ramp"
            with mock.patch("sopgate.gate.findings.program_ramp", lambda program: weeks) if shared else nullcontext():
                record(cases, name, lambda: program_findings(program, today), baseline, args.runs, len(found))

        # --- scan_reconcile: full scan with reconcile, nothing changed since the last -----------------
        # The first scan opens every blocker; measured in the steady state once autovacuum has been through the
        # changed blockers (their pages all-visible, so the open-blocker summary is an index-only scan). Right
        # after a change, before autovacuum, the summary reads the heap too: the ratio read ~1.29, not ~1.24.
        program_scan(program_id=program.pk, today=today)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Blocker._meta.db_table)}")
        record(
            cases,
            "scan_reconcile",
            lambda: program_scan(program_id=program.pk, today=today),
            lambda: program_findings(program, today),
            args.runs,
            len(found),
        )

        # --- ramp_coverage: the ramp week by week vs one hand-written statement -------------------------
        # What GET /api/programs/{code}/ramp-coverage/ serves: per week planned and achievable vehicles and the
        # bottleneck parts. At OEM size, of one program among ten: what a user asks (the API, the program page's
        # chart are per program); the every-program scan, which computes every program's ramp, is oem_scan_memory.
        coverage = ramp_coverage_checked(program)
        record(
            cases,
            "ramp_coverage",
            lambda: program_ramp(program).coverage(),
            lambda: raw_sql.ramp_coverage_raw(program),
            args.runs,
            len(coverage),
        )

        # --- part lists through the API vs .values() + JsonResponse ----------------------------------
        try:
            reverse("parts-api:part-list")
            api_available = True
        except NoReverseMatch:
            api_available = False
            print("part_list_*, bulk_update_500: the API is not there yet; skipped")
        if api_available:
            from sopgate.gate.part_status import parts_with_status

            # part_list_100 pages the program's late parts. Only ~70 of a program-size program's parts are late,
            # so part_list_1000 pages all of the program's parts (no `late=true`, on both sides alike) to really
            # show 1,000 rows. `rows` is the number of rows the page returned.
            for page_size, late in ((100, True), (1000, False)):
                url = f"/api/parts/?program={program.code}{'&late=true' if late else ''}&page_size={page_size}"

                def api_list(url=url):
                    response = client.get(url)
                    assert response.status_code == 200, response.content[:300]
                    return response

                def values_list(page_size=page_size, late=late):
                    queryset = parts_with_status(Part.objects.filter(program__code=program.code), today=today)
                    if late:
                        queryset = queryset.filter(late=True)
                    queryset = queryset.order_by("program", "part_number", "revision")
                    return JsonResponse(
                        {"count": queryset.count(), "results": list(queryset.values(*PART_FIELDS)[:page_size])}
                    )

                rows = len(json.loads(api_list().content)["results"])
                record(cases, f"part_list_{page_size}", api_list, values_list, args.runs, rows)

            # --- bulk supplier update of 500 parts vs the same writes done raw -------------------------
            part_ids = list(Part.objects.filter(program=program).order_by("id").values_list("id", flat=True)[:500])
            base_date = program.sop_date - timedelta(days=60)
            flip = {"n": 0}

            # Each run sets the 500 parts' promised date to one of two days, alternately, so that every run
            # changes them. The request bodies are built before the timing: encoding 500 items as JSON is the
            # client's work (0.7 ms), not the server's.
            days = [base_date + timedelta(days=n) for n in (0, 1)]
            bodies = [
                json.dumps([{"part": pk, "promised_date": day.isoformat(), "note": "bench"} for pk in part_ids])
                for day in days
            ]

            def api_bulk():
                flip["n"] += 1
                response = client.post("/api/supplier-updates/", bodies[flip["n"] % 2], content_type="application/json")
                assert response.status_code == 201, response.content[:500]
                return response

            # The baseline: the request's own statements run raw (as sent, parameters in place, transaction and
            # all): the 500 supplier updates stored, the parts changed and their history rows copied. The ratio
            # is what the request costs beyond the writes it makes.
            bulk_statements = captured_statements(api_bulk)
            record(cases, "bulk_update_500", api_bulk, lambda: replay(bulk_statements), args.runs, len(part_ids))

        # --- dashboard: the program page vs its own SQL run raw -------------------------------------
        dashboard_url = f"/programs/{program.code}/"
        response = browser.get(dashboard_url)
        if response.status_code == 200 and b"placeholder" not in response.content:

            def page():
                page_response = browser.get(dashboard_url)
                assert page_response.status_code == 200
                return page_response

            statements = captured_statements(page)
            record(cases, "dashboard", page, lambda: replay(statements), args.runs, len(statements))
        else:
            print("dashboard: the program page is not there yet; skipped")

        if api_available:
            results["http"] = http_load(connection.settings_dict, token, program.code, args.load_seconds)
        if args.size == "oem":
            results["oem_scan_memory"] = scan_memory(connection.settings_dict)
        results["data"] = {"size": args.size, **size.__dict__}
        return results
    finally:
        if not args.keep:
            creation.destroy_test_db(db_name, verbosity=0)


def _database_url(settings_dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def http_load(settings_dict, token: str, program_code: str, seconds: float) -> dict:
    """gunicorn on loopback, a bounded closed-loop load from a second process on the part list."""
    with socket.socket() as probe:  # a free port, so that two benchmark runs on one machine do not collide
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _database_url(settings_dict)}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "sopgate.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        loader = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                f"http://127.0.0.1:{port}/api/parts/?program={program_code}&late=true&page_size=100",
                token,
                str(seconds),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if loader.returncode != 0:
            print(loader.stderr)
            return {"error": loader.stderr[-500:]}
        result = json.loads(loader.stdout)
        print(
            f"\nHTTP load ({result['seconds']:.0f} s, {result['concurrency']} clients, gunicorn 2 workers): "
            f"{result['rps']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
            f"errors {result['errors']}",
            flush=True,
        )
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def scan_memory(settings_dict) -> dict:
    env = {**os.environ, "DATABASE_URL": _database_url(settings_dict)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory"], env=env, capture_output=True, text=True, check=True, timeout=1800
    )
    result = json.loads(out.stdout)
    print(
        f"OEM scan of every program: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB "
        f"({result['growth_mb']:.0f} MB above the idle process)",
        flush=True,
    )
    return result


__all__ = ["run", "datetime"]
