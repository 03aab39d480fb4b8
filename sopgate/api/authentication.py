"""API tokens: django-rest-knox's hashed, expiring tokens, sent as `Authorization: Token <key>`."""

from django.contrib.auth import get_user_model
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from ..roles import user_may_sign_in


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's token check, then the same account check as a login: an inactive user, or a user of an inactive
    supplier, is refused (401) with the reason."""

    def validate_user(self, auth_token):
        # The token's user again, with its supplier membership: the check below and every permission after it read
        # it, so it costs this one query instead of one or two later.
        user = (
            get_user_model()
            ._default_manager.select_related("supplier_membership__supplier")
            .filter(pk=auth_token.user_id)
            .first()
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed("This account is inactive.")
        if not user_may_sign_in(user):
            raise AuthenticationFailed(f"Supplier {user.supplier_membership.supplier.code} is inactive.")
        return user, auth_token


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI schema's word for this class: knox's `Authorization: Token <key>`."""

    target_class = TokenAuthentication
    name = "tokenAuth"
