"""Re-scan triggers: any saved or deleted gate input records a scan request for its program.

Kept here in the gate app (not in the models) so that parts and validation know nothing about the gate.
Bulk writes in services that bypass signals call `program_data_changed.send` themselves.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from parts.models import Part
from parts.signals import program_data_changed
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from .models import Program, RampStep
from .services import scan_request


def _program_id(instance) -> int | None:
    if isinstance(instance, Program):
        return instance.pk
    if isinstance(instance, HandoverItem):
        return HandoverChecklist.objects.filter(pk=instance.checklist_id).values_list("program_id", flat=True).first()
    return getattr(instance, "program_id", None)


def _on_save(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    scan_request(program_id=_program_id(instance))


def _rescan_after_commit(program_id: int) -> None:
    """Ask for a re-scan once the transaction commits, if the program still exists then.

    One callback per program and transaction: deleting a program cascades to every part, and 100,000
    callbacks (each with a query) would follow the commit otherwise. Callbacks of a rolled-back savepoint
    leave `run_on_commit`, so the check never skips a request that is still needed.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(func, "sopgate_program_id", None) == program_id for _, func, _ in connection.run_on_commit
    ):
        return

    def request_scan():
        scan_request(program_id=program_id)  # `scan_request` stores nothing for a program deleted meanwhile

    request_scan.sopgate_program_id = program_id
    transaction.on_commit(request_scan)


def _on_delete(sender, instance, **kwargs):
    # The program itself may be going away in the same transaction (cascade), so ask after the commit.
    program_id = getattr(instance, "program_id", None)
    if program_id is not None:
        _rescan_after_commit(program_id)


for _model in (Program, RampStep, Part, ValidationTest, HandoverChecklist, HandoverItem):
    post_save.connect(_on_save, sender=_model, dispatch_uid=f"sopgate-rescan-save-{_model.__name__}")
for _model in (RampStep, Part, ValidationTest, HandoverChecklist):
    post_delete.connect(_on_delete, sender=_model, dispatch_uid=f"sopgate-rescan-delete-{_model.__name__}")


@receiver(pre_delete, sender=HandoverItem, dispatch_uid="sopgate-rescan-item-delete")
def _on_item_delete(sender, instance, **kwargs):
    program_id = HandoverChecklist.objects.filter(pk=instance.checklist_id).values_list("program_id", flat=True).first()
    if program_id is not None:
        _rescan_after_commit(program_id)


@receiver(program_data_changed, dispatch_uid="sopgate-rescan-bulk")
def _on_bulk_change(sender, program_ids, **kwargs):
    for program_id in sorted(set(program_ids)):
        scan_request(program_id=program_id)
