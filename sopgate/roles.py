"""Who may do what: the roles are Django groups (made by migration sopgate 0009), and a refusal names who may act.

- `engineers`: edit programs, parts, tests and checklists (staff users count as engineers too).
- `launch_managers`: engineers who also change a program's gate settings, waive tests and withdraw sign-offs.
- Supplier users (a user with a `supplier_membership`, `parts.models.SupplierUser`) are never engineers.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

ENGINEERS = "engineers"
LAUNCH_MANAGERS = "launch_managers"

# The model permissions both roles hold in the admin: everything the day's work edits; the gate's own records
# (blockers, snapshots, alerts, digests, the supplier update log) read only; evidence files added, never changed or
# removed. The migrations grant them (sopgate 0009 and 0015, validation 0008; tests/test_roles_permissions.py
# checks they agree); the demo and the tests make the groups from here.
_EDIT, _READ, _ATTACH = ("view", "add", "change", "delete"), ("view",), ("view", "add")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "sopgate": {
        "program": _EDIT,
        "rampstep": _EDIT,
        "workcalendar": _EDIT,
        "blocker": _READ,
        "readinesssnapshot": _READ,
        "alert": _READ,
        "digestdelivery": _READ,
    },
    "parts": {
        "supplier": _EDIT,
        "part": _EDIT,
        "supplieruser": _EDIT,
        "capacityline": _EDIT,
        "supplierupdate": _READ,
        "evidencefile": _ATTACH,
    },
    "validation": {
        "validationtest": _EDIT,
        "handoverchecklist": _EDIT,
        "handoveritem": _EDIT,
        "handoveritemfile": _ATTACH,
    },
    "auth": {"user": _READ},  # to pick owners and responsible people
}


def role_permission_codenames() -> set[tuple[str, str]]:
    """(app label, codename) of every permission in `ROLE_PERMISSIONS`."""
    return {
        (app, f"{action}_{model}")
        for app, models in ROLE_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    }


class NotPermitted(PermissionDenied):
    """A change refused because of who asks for it. `field` names what was asked, the message who may do it; the
    API answers 403 with `{field: [message]}`, the admin shows the message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


def user_in_group(user, name: str) -> bool:
    """Membership of a role's group, read once per user object."""
    if not user.is_authenticated:
        return False
    groups = getattr(user, "_sopgate_groups", None)
    if groups is None:
        groups = user._sopgate_groups = set(user.groups.values_list("name", flat=True))
    return name in groups


def user_is_launch_manager(user) -> bool:
    return user.is_active and user_in_group(user, LAUNCH_MANAGERS)


def launch_manager_names() -> str:
    """'a launch manager (li.wei, tomas.novak)', for a refusal; the group may be empty."""
    names = sorted(
        get_user_model()
        .objects.filter(groups__name=LAUNCH_MANAGERS, is_active=True)
        .values_list("username", flat=True)[:10]
    )
    return f"a launch manager ({', '.join(names)})" if names else "a launch manager (the group has no members yet)"


def people_text(users) -> str:
    """'li.wei or tomas.novak' of the users given (None skipped)."""
    names = sorted({user.get_username() for user in users if user is not None})
    if not names:
        return "nobody (no one is named)"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def supplier_id_for_user(user) -> int | None:
    membership = getattr(user, "supplier_membership", None) if user.is_authenticated else None
    return membership.supplier_id if membership is not None else None


def user_may_sign_in(user) -> bool:
    """An active user, and for a supplier's user, an active supplier: anyone else is refused at every door (login,
    session, API token)."""
    if not user.is_active:
        return False
    membership = getattr(user, "supplier_membership", None)
    return membership is None or membership.supplier.is_active


def user_is_engineer(user) -> bool:
    """Engineers are staff users or members of the `engineers` or `launch_managers` group, and never supplier
    users."""
    if not user.is_authenticated or supplier_id_for_user(user) is not None:
        return False
    return user.is_staff or user_in_group(user, ENGINEERS) or user_in_group(user, LAUNCH_MANAGERS)
