"""Tags and filters for the dashboard's pages, which are read many times a day with the same links on them.

`{% url %}`, `{% static %}` and the `date` filter recompute their strings on every render (a `reverse`, a
storage lookup, a format parsed); on the program page those nodes were half of the template's own time. These
give the same strings and keep each URL once per process.
"""

from functools import lru_cache

from django import template
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

register = template.Library()


@register.simple_tag
def page_url(name: str, *args) -> str:
    """`{% url name arg ... %}`, reversed once per process for each name, arguments and script prefix."""
    return _reversed(name, tuple(str(arg) for arg in args), get_script_prefix(), get_urlconf())


@lru_cache(maxsize=4096)  # a few URLs per program: enough for every program of a large OEM
def _reversed(name: str, args: tuple[str, ...], script_prefix: str, urlconf) -> str:
    return reverse(name, args=args, urlconf=urlconf)


@register.simple_tag
def page_static(path: str) -> str:
    """`{% static path %}`, looked up once per process (the storage's names do not change while it runs)."""
    return _static(path, get_script_prefix())


@lru_cache(maxsize=64)
def _static(path: str, script_prefix: str) -> str:
    return static(path)


@register.filter
def iso_date(value) -> str:
    """A date as YYYY-MM-DD (what `|date:"Y-m-d"` writes), "" for None."""
    return value.isoformat() if value is not None else ""


@register.filter
def iso_minute(value) -> str:
    """An aware datetime in the current time zone as YYYY-MM-DD HH:MM (`|date:"Y-m-d H:i"`), "" for None."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value is not None else ""
