"""What the bench checks before it times a case: that the case and its baseline compute the same answer."""

from bench import raw_sql


class Mismatch(AssertionError):
    """A case and its baseline disagree: timing them would compare two different answers."""


def ramp_coverage_checked(program) -> list[dict]:
    """The program's ramp coverage, after checking that the baseline computes the same weeks, planned and
    achievable vehicles and bottleneck parts (their ids, numbers, capacities and demands)."""
    from sopgate.gate.coverage import program_ramp

    case = [
        (w["starts_on"], w["week"], w["planned_vehicles"], w["achievable_vehicles"], w["bottleneck"])
        for w in program_ramp(program).coverage()
    ]
    raw = [tuple(row) for row in raw_sql.ramp_coverage_raw(program)]
    if case != raw:
        differ = [(a[:4], b[:4]) for a, b in zip(case, raw, strict=False) if a != b][:3]
        raise Mismatch(
            f"ramp_coverage of {program.code}: the case has {len(case)} weeks, the baseline {len(raw)}; "
            f"first differing weeks (Monday, label, planned, achievable): {differ}"
        )
    if not any(week[4] for week in case):
        raise Mismatch(f"ramp_coverage of {program.code}: no week has a bottleneck; the data has no capacities")
    return case


def _differences(name: str, case: set, baseline: set, shown: int = 5) -> str:
    only_case, only_base = sorted(case - baseline), sorted(baseline - case)
    return (
        f"{name}: the case has {len(case)} (kind, id, rule) violations, the baseline {len(baseline)}; "
        f"only in the case ({len(only_case)}): {only_case[:shown]}; "
        f"only in the baseline ({len(only_base)}): {only_base[:shown]}"
    )


def scan_checked(program, today, *, ramp_in_sql: bool = False) -> list:
    """The program's findings as of `today`, after checking that the scan baselines (`SCAN_SQL`,
    `SCAN_WITH_COLUMNS_SQL`, and with `ramp_in_sql` `SCAN_RAMP_IN_SQL`) find the same violations: the same set of
    (kind of object, object id, rule)."""
    from sopgate.gate.findings import program_findings

    found = program_findings(program, today)
    case = {(finding.object_type, finding.object_id, finding.rule) for finding in found}
    params = raw_sql.scan_params(program, today)
    baselines = [("scan", raw_sql.SCAN_SQL, params), ("scan_vs_columns", raw_sql.SCAN_WITH_COLUMNS_SQL, params)]
    if ramp_in_sql:
        sql_params = raw_sql.scan_ramp_in_sql_params(program, today)
        baselines.append(("scan_vs_ramp_in_sql", raw_sql.SCAN_RAMP_IN_SQL, sql_params))
    for name, sql, values in baselines:
        baseline = raw_sql.scan_keys(raw_sql.scan_raw(values, sql))
        if case != baseline:
            raise Mismatch(_differences(f"{name} of {program.code} on {today}", case, baseline))
    if len(case) != len(found):
        raise Mismatch(f"scan of {program.code}: {len(found)} findings, {len(case)} distinct (kind, id, rule)")
    return found
