"""Reads about parts: who sees which, and the dates the gate compares (`part_dates`). Whether a part is late is
the gate's to say (`sopgate.gate.part_status`)."""

from datetime import date, timedelta

from django.db.models import DateField, F, QuerySet, Value
from django.db.models.functions import Coalesce

from sopgate.roles import supplier_id_for_user, user_is_engineer

from .expressions import DateAddDays, date_minus_days
from .models import CapacityLine, Part, Supplier, SupplierUpdate


def effective_need_date_expression() -> Coalesce:
    """A part's need date, else its program's SOP date minus the part lead days."""
    return Coalesce(
        F("need_date"), date_minus_days(F("program__sop_date"), F("program__part_lead_days")), output_field=DateField()
    )


def part_dates(queryset: QuerySet[Part] | None = None, *, today: date) -> QuerySet[Part]:
    """Annotate what the gate's part rules compare, as of `today`, in SQL: `as_of`, effective need date, effective
    PPAP due date and the at-risk horizon. Works across programs: each row uses its own program's lead times."""
    queryset = Part.objects.all() if queryset is None else queryset
    today_value = Value(today, output_field=DateField())
    return queryset.annotate(
        as_of=today_value,
        effective_need_date=effective_need_date_expression(),
        at_risk_horizon=DateAddDays(today_value, F("program__at_risk_days")),
    ).annotate(
        effective_ppap_due_date=Coalesce(
            F("ppap_due_date"),
            date_minus_days(F("effective_need_date"), F("program__ppap_lead_days")),
            output_field=DateField(),
        ),
    )


def part_list_for_user(user) -> QuerySet[Part]:
    """Parts a user may see: all for engineers, only their supplier's for supplier users, none otherwise."""
    queryset = Part.objects.all()
    supplier_id = supplier_id_for_user(user)
    if supplier_id is not None:
        return queryset.filter(supplier_id=supplier_id)
    return queryset if user_is_engineer(user) else queryset.none()


def supplier_list_for_user(user) -> QuerySet[Supplier]:
    supplier_id = supplier_id_for_user(user)
    if supplier_id is not None:
        return Supplier.objects.filter(pk=supplier_id)
    return Supplier.objects.all() if user_is_engineer(user) else Supplier.objects.none()


def supplier_update_list_for_user(user) -> QuerySet[SupplierUpdate]:
    """Supplier updates a user may read: all for engineers; for a supplier user, those its supplier reported
    (by the supplier stored on each update, not the part's supplier now: a part that moved keeps its old
    supplier's reports with that supplier); none otherwise."""
    supplier_id = supplier_id_for_user(user)
    if supplier_id is not None:
        return SupplierUpdate.objects.filter(supplier_id=supplier_id)
    return SupplierUpdate.objects.all() if user_is_engineer(user) else SupplierUpdate.objects.none()


# A stored supplier update as the API shows it: its columns and its part's program code, number and revision.
SUPPLIER_UPDATE_ROW = (
    "id",
    "part_id",
    "reported_by_username",
    "reported_at",
    "promised_date",
    "ppap_status",
    "capacity_per_week",
    "tooling_stage",
    "run_at_rate_on",
    "run_at_rate_per_week",
    "note",
)


def supplier_update_rows_for_user(user) -> QuerySet:
    """`supplier_update_list_for_user` as rows (dicts) of `SUPPLIER_UPDATE_ROW` and the part's `program` (code),
    `part_number` and `revision`: the shape `services.supplier_updates_apply` returns the updates it stores in."""
    return supplier_update_list_for_user(user).values(
        *SUPPLIER_UPDATE_ROW,
        program=F("part__program__code"),
        part_number=F("part__part_number"),
        revision=F("part__revision"),
    )


def effective_need_date(part: Part) -> date:
    """Python mirror of the SQL annotation, for one part loaded with its program."""
    return part.need_date or part.program.sop_date - timedelta(days=part.program.part_lead_days)


def part_revisions_by_number(
    queryset: QuerySet[Part], numbers: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, int]]:
    """Resolve parts named by (program code, part number) within `queryset`, in one query: the part id of each
    revision, per (program code, part number)."""
    revisions: dict[tuple[str, str], dict[str, int]] = {}
    rows = queryset.filter(
        program__code__in={code for code, _ in numbers}, part_number__in={number for _, number in numbers}
    ).values_list("pk", "program__code", "part_number", "revision")
    for pk, code, number, revision in rows:
        if (code, number) in numbers:
            revisions.setdefault((code, number), {})[revision] = pk
    return revisions


def capacity_line_list_for_user(user) -> QuerySet[CapacityLine]:
    """Capacity plan lines a user may see: those of the parts it may see (`part_list_for_user`)."""
    return CapacityLine.objects.filter(part__in=part_list_for_user(user))
