"""Who may call what. Supplier users are narrowed by the viewsets' querysets (another supplier's object is a 404);
these classes decide the coarse question of whether a role may use an endpoint at all (403 otherwise)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import supplier_id_for_user, user_is_engineer


def is_supplier_user(user) -> bool:
    return supplier_id_for_user(user) is not None


class IsEngineer(BasePermission):
    """Engineers only: the gate's internals (tests, checklists, blockers, programs) are not the suppliers' business."""

    message = "Only engineers may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return user_is_engineer(request.user)


class IsEngineerOrSupplierReading(BasePermission):
    """Engineers read and write; supplier users only read (their own objects, by the viewset's queryset)."""

    message = "Supplier users may only read here; changes go through supplier updates."

    def has_permission(self, request, view) -> bool:
        if user_is_engineer(request.user):
            return True
        return request.method in SAFE_METHODS and is_supplier_user(request.user)


class IsEngineerOrSupplier(BasePermission):
    """Engineers and supplier users; the viewset restricts suppliers to their own parts."""

    message = "Only engineers and supplier users may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return user_is_engineer(request.user) or is_supplier_user(request.user)


class IsEngineerOrAuthenticatedReading(BasePermission):
    """Engineers read and write; anyone else signed in (a supplier user) only reads: shared reference data such as
    work calendars."""

    message = "Only engineers may change this; everyone signed in may read it."

    def has_permission(self, request, view) -> bool:
        if user_is_engineer(request.user):
            return True
        return request.method in SAFE_METHODS and bool(request.user and request.user.is_authenticated)
