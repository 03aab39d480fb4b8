"""What a supplier may not report (DOMAIN.md "Trust": supplier plausibility): each a function that says why, in
the supplier's language, or None. `services.supplier_updates_apply` asks them for every item; an engineer's entries
are not held to them (the gate judges those)."""

from datetime import date

from django.utils.translation import gettext

from .choices import PPAP_CUSTOMER_DECISIONS, PPAPStatus


def supplier_ppap_refusal(current: str, reported: str) -> str | None:
    """Why a supplier may not report PPAP status `reported` for a part whose status is `current`, or None.

    The decisions are the customer's: a supplier never sets approved, interim-approved or rejected, never moves a
    part away from an approval (nor an interim one), and answers a rejection only by submitting again."""
    if reported in PPAP_CUSTOMER_DECISIONS:
        return gettext(
            "Suppliers may not set '%(reported)s': approving or rejecting a PPAP is the customer's decision. "
            "Report 'submitted' when the PPAP is handed in."
        ) % {"reported": reported}
    if reported == current:
        return None
    if current in (PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED):
        return gettext("The PPAP is %(status)s: only the customer can change its status.") % {
            "status": str(PPAPStatus(current).label).lower()
        }
    if current == PPAPStatus.REJECTED and reported != PPAPStatus.SUBMITTED:
        return gettext("The PPAP was rejected: report 'submitted' when it is handed in again.")
    return None


def supplier_promise_refusal(promised: date | None, *, today: date) -> str | None:
    """Why a supplier may not report `promised` as its promised date, or None: a promise before today is no
    promise (DOMAIN.md "Trust": supplier plausibility). An engineer may type a past date; the gate judges it."""
    if promised is not None and promised < today:
        return gettext("A promised date cannot be before today (%(today)s).") % {"today": today.isoformat()}
    return None


def supplier_run_at_rate_refusal(demonstrated: date | None, *, today: date) -> str | None:
    """Why a supplier may not report a run at rate demonstrated on `demonstrated`, or None: a run at rate is
    reported once it was run, so not after today (it would silence `run_at_rate_missing` and cap nothing)."""
    if demonstrated is not None and demonstrated > today:
        return gettext("A run at rate is reported once it has run: %(day)s is after today (%(today)s).") % {
            "day": demonstrated.isoformat(),
            "today": today.isoformat(),
        }
    return None
