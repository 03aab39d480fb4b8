"""Writes of the gate: the scan that reconciles blockers (`scan`), the outbox of re-scans and alert emails
(`outbox`), and a program's snapshots, archiving and gate settings (`programs`)."""

from .outbox import alert_due, dispatch_alerts, outbox_dispatch, scan_due, scan_request
from .programs import GATE_SETTINGS, program_check_gate_settings, program_snapshot, programs_archive
from .scan import ScanResult, alert_recipients, program_scan

__all__ = [
    "GATE_SETTINGS",
    "ScanResult",
    "alert_due",
    "alert_recipients",
    "dispatch_alerts",
    "outbox_dispatch",
    "program_check_gate_settings",
    "program_scan",
    "program_snapshot",
    "programs_archive",
    "scan_due",
    "scan_request",
]
