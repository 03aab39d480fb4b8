from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch

from sopgate.api.base import ModelViewSet
from sopgate.api.permissions import IsEngineer

from ..choices import SignOffSide
from ..filtersets import HandoverChecklistFilterSet, HandoverItemFilterSet, ValidationTestFilterSet
from ..models import HandoverChecklist, HandoverItem, ValidationTest
from ..services import checklist_save, checklist_sign_off, checklist_withdraw_sign_off, item_save, test_save
from .serializers import HandoverChecklistSerializer, HandoverItemSerializer, ValidationTestSerializer

_WRITE_METHODS = ["get", "post", "patch", "head", "options"]


class ValidationTestViewSet(ModelViewSet):
    queryset = ValidationTest.objects.select_related("program", "owner")
    serializer_class = ValidationTestSerializer
    permission_classes = [IsEngineer]
    filterset_class = ValidationTestFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "planned_start", "planned_end", "status", "phase"]
    http_method_names = _WRITE_METHODS

    def _save(self, serializer):
        # The service saves the test, so that it can refuse a status change (who may waive, what each needs).
        serializer.instance = test_save(test=self.unsaved(serializer), actor=self.request.user)

    perform_create = _save
    perform_update = _save


class HandoverChecklistViewSet(ModelViewSet):
    """Sign a side off with `PATCH {"rd_signed_off": true}` or `{"production_signed_off": true}`."""

    queryset = HandoverChecklist.objects.select_related(
        "program", "rd_owner", "production_owner", "rd_signed_off_by", "production_signed_off_by"
    ).prefetch_related(
        "rd_delegates",
        "production_delegates",
        Prefetch(
            "items",
            queryset=HandoverItem.objects.select_related("responsible", "done_by").order_by("due_date", "id"),
        ),
    )
    serializer_class = HandoverChecklistSerializer
    permission_classes = [IsEngineer]
    filterset_class = HandoverChecklistFilterSet
    search_fields = ["area"]
    ordering_fields = ["area", "id"]
    http_method_names = _WRITE_METHODS

    def _save(self, serializer):
        wanted = {
            SignOffSide.RD: serializer.validated_data.pop("rd_signed_off", None),
            SignOffSide.PRODUCTION: serializer.validated_data.pop("production_signed_off", None),
        }
        reason = serializer.validated_data.pop("withdrawal_reason", "")
        delegates = {
            name: serializer.validated_data.pop(name)
            for name in ("rd_delegates", "production_delegates")
            if name in serializer.validated_data
        }
        with transaction.atomic():
            if serializer.instance is None:
                checklist = serializer.save()
            else:  # the checklist's own fields; its sign-offs as they are stored (a racing withdrawal stands)
                checklist = serializer.instance
                for name, value in serializer.validated_data.items():
                    setattr(checklist, name, value)
                checklist_save(checklist=checklist, actor=self.request.user)
            for name, people in delegates.items():
                getattr(checklist, name).set(people)
            errors = {}
            for side, signed in wanted.items():
                try:
                    if signed is True:
                        checklist_sign_off(checklist=checklist, side=side, actor=self.request.user)
                    elif signed is False:
                        checklist_withdraw_sign_off(
                            checklist=checklist, side=side, actor=self.request.user, reason=reason
                        )
                except DjangoValidationError as refused:
                    errors.update(refused.message_dict)
            if errors:
                raise DjangoValidationError(errors)

    perform_create = _save
    perform_update = _save


class HandoverItemViewSet(ModelViewSet):
    """Mark an item done with `PATCH {"done": true}`: done by you, now.

    While a side of the checklist is signed off, a change that would leave it with an open required item (adding
    one, reopening one, making an open item required, moving one in) is refused with 400: withdraw the sign-off
    first (`PATCH {"rd_signed_off": false}` on the checklist)."""

    queryset = HandoverItem.objects.select_related("checklist", "responsible", "done_by")
    serializer_class = HandoverItemSerializer
    permission_classes = [IsEngineer]
    filterset_class = HandoverItemFilterSet
    search_fields = ["title", "evidence"]
    ordering_fields = ["due_date", "id", "title"]
    http_method_names = _WRITE_METHODS

    def _save(self, serializer):
        # The service saves the item, so that it can refuse a change that would reopen a signed-off checklist
        # before anything is written.
        done = serializer.validated_data.pop("done", None)
        serializer.instance = item_save(item=self.unsaved(serializer), actor=self.request.user, done=done)

    perform_create = _save
    perform_update = _save
