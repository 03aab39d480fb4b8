"""Parts as the gate sees them, for the parts API and admin: `late` (the `part_late` rule) and the number of open
blockers about each part, annotated in the list's one query."""

from datetime import date

from django.db.models import BooleanField, Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from parts.models import Part
from parts.selectors import part_dates, part_list_for_user

from ..choices import ObjectType
from ..models import Blocker
from .rules import PART_LATE


def parts_with_status(queryset: QuerySet[Part] | None = None, *, today: date) -> QuerySet[Part]:
    """`part_dates` and `late` (the gate's `part_late` rule), as of `today`."""
    return part_dates(queryset, today=today).annotate(
        late=Case(When(PART_LATE.condition, then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def part_list_for_api(user, *, today: date) -> QuerySet[Part]:
    """The parts `user` may see (`parts.selectors.part_list_for_user`) with what the API shows per row, all in the
    one list query: `parts_with_status`, program, supplier and owner joined, and `open_blockers`, the number of open
    gate blockers about the part."""
    open_blockers = (
        Blocker.objects.filter(object_type=ObjectType.PART, object_id=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("object_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        parts_with_status(part_list_for_user(user), today=today)
        .select_related("program", "supplier", "owner")
        .annotate(open_blockers=Coalesce(Subquery(open_blockers, output_field=IntegerField()), Value(0)))
    )
