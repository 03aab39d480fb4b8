"""Who sees the portal as which supplier. A supplier user sees its own supplier and writes to it; an engineer may
look at the portal as a supplier sees it (`?as=CODE`), read-only; anyone else is refused. Every part, file and
update the portal shows is looked up within `request.portal.supplier` (another supplier's is a 404)."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse

from parts.models import Supplier
from sopgate.roles import supplier_id_for_user, user_is_engineer

# Where a view-as engineer's supplier travels from page to page.
VIEW_AS = "as"


@dataclass(frozen=True)
class PortalViewer:
    supplier: Supplier
    read_only: bool  # an engineer looking as the supplier: nothing is written

    @property
    def query(self) -> str:
        """What a link keeps after its path, so an engineer stays on the supplier it looks at."""
        return f"?{VIEW_AS}={self.supplier.code}" if self.read_only else ""


def portal_viewer(request) -> PortalViewer | None:
    """The portal as `request.user` may see it, or None (an engineer who has not chosen a supplier yet)."""
    supplier_id = supplier_id_for_user(request.user)
    if supplier_id is not None:
        return PortalViewer(request.user.supplier_membership.supplier, read_only=False)
    code = request.GET.get(VIEW_AS, "").strip()
    supplier = Supplier.objects.filter(code=code).first() if code else None
    return PortalViewer(supplier, read_only=True) if supplier else None


def portal_page(view=None, *, writes: bool = False):
    """A portal page: anonymous visitors go to the portal's login; users who are neither a supplier's nor an
    engineer get 403; an engineer without a supplier chosen gets the supplier chooser. `writes`: a POST by a
    view-as engineer is refused (403), the portal being read-only for them."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url=reverse("portal:login"))
            if supplier_id_for_user(user) is None and not user_is_engineer(user):
                return render(request, "portal/forbidden.html", status=403)
            viewer = portal_viewer(request)
            if viewer is None:
                suppliers = Supplier.objects.filter(is_active=True).only("code", "name")
                return render(request, "portal/choose_supplier.html", {"suppliers": suppliers})
            if writes and request.method == "POST" and viewer.read_only:
                raise PermissionDenied("Engineers look at the portal read-only.")
            request.portal = viewer
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
