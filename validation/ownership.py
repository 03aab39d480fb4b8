"""What a person owns in a program, across the apps below the gate: programs, parts, tests, checklists and items."""

from django.db.models import Q

from parts.models import Part
from sopgate.programs import Program

from .models import HandoverChecklist, HandoverItem, ValidationTest


def supplier_membership_refusal(user) -> str | None:
    """Why `user` may not become a supplier's login, or None: an engineer (staff) stays one, and a person who
    owns something of the program (a program, part, test, checklist or handover item) would receive alerts
    about other suppliers' parts."""
    if user.is_staff or user.is_superuser:
        return f"{user.get_username()} is an engineer (staff); a supplier's login must be a separate user."
    owned = {
        "programs": Program.objects.filter(owner=user),
        "parts": Part.objects.filter(owner=user),
        "validation tests": ValidationTest.objects.filter(owner=user),
        "handover checklists": HandoverChecklist.objects.filter(Q(rd_owner=user) | Q(production_owner=user)),
        "handover items": HandoverItem.objects.filter(responsible=user),
    }
    held = [name for name, queryset in owned.items() if queryset.exists()]
    if held:
        return (
            f"{user.get_username()} owns {', '.join(held)}; give those to someone else before making this login "
            "a supplier's."
        )
    return None
