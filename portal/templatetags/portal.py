"""`{% portal_url name arg ... %}`: a portal link that keeps an engineer on the supplier it looks at (`?as=`)."""

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_url(context, name: str, *args) -> str:
    viewer = getattr(context.get("request"), "portal", None)
    return reverse(name, args=args) + (viewer.query if viewer is not None else "")
