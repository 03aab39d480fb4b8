"""The readiness dashboard: server-rendered pages and the gate report. Views only translate: the numbers come
from `sopgate.selectors.program_readiness` (the reports), `sopgate.dashboard.gate` (the program page's verdict and
the blockers it shows) and `sopgate.dashboard.selectors`."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..admin_badges import badge
from ..choices import Decision, ObjectType, Rule, Severity
from ..models import Program, ScanRequest
from ..roles import user_is_engineer
from ..selectors import program_readiness
from ..templatetags.sopgate_pages import page_url
from . import report
from .charts_page import program_charts
from .gate import ProgramGate, program_gate
from .selectors import program_summaries, program_with_owner_name

# No inline script or style anywhere in the dashboard; charts are inline SVG with presentation attributes only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
DECISION_TONES = {Decision.GO: "good", Decision.CONDITIONAL: "warn", Decision.NO_GO: "bad"}
ADMIN_CHANGE_URLS = {
    ObjectType.PART: "admin:parts_part_change",
    ObjectType.VALIDATION_TEST: "admin:validation_validationtest_change",
    ObjectType.HANDOVER_ITEM: "admin:validation_handoveritem_change",
    ObjectType.HANDOVER_CHECKLIST: "admin:validation_handoverchecklist_change",
}


def engineer_required(view):
    """Anonymous users go to the admin login; logged-in users who are not engineers (suppliers) get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_engineer(request.user):
            response = render(request, "dashboard/forbidden.html", status=403)
        else:
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    return wrapper


def decision_badge(decision: str, detail: str = ""):
    label = Decision(decision).label
    return badge(f"{label}{detail}", DECISION_TONES[Decision(decision)])


@require_GET
@engineer_required
def program_list(request):
    today = timezone.localdate()
    archived = request.GET.get("archived") == "1"
    summaries = program_summaries(today=today, archived=archived)
    rows = [(summary, decision_badge(summary.decision)) for summary in summaries]
    return render(request, "dashboard/index.html", {"rows": rows, "today": today, "archived": archived})


BUNDLE_AT = 3  # a supplier's blockers of one rule shown as one row from this many on


def _bundled(rows: list[dict]) -> list[dict]:
    """One supplier's blockers of one rule (its stale updates, its late parts) as one row with their count once
    there are `BUNDLE_AT` or more: the objects are listed inside it, the oldest age is shown."""
    by_supplier: dict[str, list[dict]] = {}
    for row in rows:
        if row["supplier_code"]:
            by_supplier.setdefault(row["supplier_code"], []).append(row)
    out, done = [], set()
    for row in rows:
        code = row["supplier_code"]
        members = by_supplier.get(code, [])
        if not code or len(members) < BUNDLE_AT:
            out.append(row)
            continue
        if code in done:
            continue
        done.add(code)
        first = members[0]
        out.append(
            {
                "bundle": True,
                "label": code,
                "url": first["url"],
                "count": len(members),
                "owners": ", ".join(dict.fromkeys(m["owners"] for m in members if m["owners"])),
                "age_days": max(m["age_days"] for m in members),
                "detail": f"{len(members)} objects of {code}: {first['detail']}",
                "items": members,
            }
        )
    return out


def blocker_groups(program: Program, gate: ProgramGate) -> list[dict]:
    """Open blockers grouped by rule, blocking rules first, for `dashboard/blocker_group.html`; warnings beyond
    the first few link to the admin.

    Messages start with the object's label, which the Object column already shows: the row's `detail` drops it
    and the whole message stays its tooltip."""
    changelist = page_url("admin:sopgate_blocker_changelist")
    program_query = urlencode({"open": "yes", "program__id__exact": program.pk})
    badges = {
        severity: badge(severity.label, "bad" if severity == Severity.BLOCKING else "warn") for severity in Severity
    }
    return [
        {
            "rule": group.rule,
            "label": Rule(group.rule).label,
            "badge": badges[group.severity],
            "total": group.total,
            "not_shown": group.not_shown,
            "shown": len(group.rows),
            "all_url": f"{changelist}?{program_query}&rule__exact={group.rule}",  # a rule is a plain identifier
            "rows": _bundled(
                [
                    {
                        "url": page_url(ADMIN_CHANGE_URLS[row.object_type], row.object_id),
                        "label": row.object_label,
                        "owners": row.owners,
                        "age_days": row.age_days,
                        "message": row.message,
                        "detail": row.message.removeprefix(f"{row.object_label}: "),
                        "supplier_code": row.supplier_code,
                    }
                    for row in group.rows
                ]
            ),
        }
        for group in gate.groups
    ]


def scan_queued(program: Program) -> dict:
    """The program's pending re-scan (its `ScanRequest` row), for the page's "re-scan queued" note."""
    request = ScanRequest.objects.filter(program=program).values_list("requested_at", "changes").first()
    if request is None:
        return {"scan_queued": None, "scan_changes": 0}
    return {"scan_queued": request[0], "scan_changes": request[1]}


@require_GET
@engineer_required
def program_detail(request, code):
    program = program_with_owner_name(code)
    if program is None:
        raise Http404("No program with this code.")
    today = timezone.localdate()
    charts = program_charts(program, today=today)
    gate = program_gate(program, today=today, items=charts["items"])
    readiness = gate.readiness
    forecast_slip = (
        (readiness.forecast_sop_date - program.sop_date).days if readiness.forecast_sop_date is not None else None
    )
    context = {
        "program": program,
        "readiness": readiness,
        "decision_badge": decision_badge(readiness.decision),
        "forecast_slip": forecast_slip,
        "open_count": readiness.blocking_count + readiness.warning_count,
        **scan_queued(program),
        "blocker_groups": blocker_groups(program, gate),
        "charts": charts,
        "today": today,
    }
    html = render_to_string("dashboard/program.html", context, request)
    # Sent in ASCII, every other character as a character reference (which a browser shows as the character):
    # the page reads the same in any encoding a client or a proxy might assume.
    return HttpResponse(html.encode("ascii", "xmlcharrefreplace"))


def _report(code: str):
    program = get_object_or_404(Program.objects.select_related("owner"), code=code)
    readiness = program_readiness(program, today=timezone.localdate())
    return readiness, report.gate_report(readiness)


def _filename(readiness, extension: str) -> str:
    return f"{readiness.program.code}-gate-report-{readiness.as_of:%Y-%m-%d}.{extension}"


@require_GET
@engineer_required
def report_csv(request, code):
    readiness, gate_report = _report(code)
    # With a byte order mark: Excel reads a CSV file without one in the PC's own encoding, garbling "−" and "×".
    response = HttpResponse("\ufeff" + report.render_csv(gate_report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(readiness, "csv")}"'
    return response


@require_GET
@engineer_required
def report_xlsx(request, code):
    readiness, gate_report = _report(code)
    response = HttpResponse(
        report.render_xlsx(gate_report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(readiness, "xlsx")}"'
    return response
