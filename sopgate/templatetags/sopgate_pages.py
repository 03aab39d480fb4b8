"""Tags and filters for the dashboard's pages, which are read many times a day with the same links on them.

`{% url %}`, `{% static %}` and the `date` filter recompute their strings on every render (a `reverse`, a
storage lookup, a format parsed); on the program page those nodes were half of the template's own time. These
give the same strings and keep each URL once per process.
"""

from datetime import date, datetime
from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def page_url(name: str, *args) -> str:
    """`{% url name arg ... %}`, reversed once per process for each name, arguments, script prefix, URLconf
    and language (the last is always the same while USE_I18N is off, but costs nothing to keep apart)."""
    return _reversed(name, tuple(str(arg) for arg in args), get_script_prefix(), get_urlconf(), get_language())


@lru_cache(maxsize=4096)  # a few URLs per program: enough for every program of a large OEM
def _reversed(name: str, args: tuple[str, ...], script_prefix: str, urlconf, language) -> str:
    return reverse(name, args=args, urlconf=urlconf)


@register.simple_tag
def page_static(path: str) -> str:
    """`{% static path %}`, looked up once per process (the storage's names do not change while it runs)."""
    return _static(path, get_script_prefix())


@lru_cache(maxsize=64)
def _static(path: str, script_prefix: str) -> str:
    return static(path)


@receiver(setting_changed)
def _forget_kept_urls(*, setting, **kwargs):
    """Tests that change the URLconf or static files settings get fresh URLs, as `reverse` and `static` do."""
    if setting in {"ROOT_URLCONF", "STATIC_URL", "STORAGES", "FORCE_SCRIPT_NAME"}:
        _reversed.cache_clear()
        _static.cache_clear()


@register.filter(expects_localtime=True)
def iso_date(value) -> str:
    """A date as YYYY-MM-DD (what `|date:"Y-m-d"` writes); "" for anything else, as `|date` answers."""
    return value.isoformat()[:10] if isinstance(value, date) else ""


@register.filter(expects_localtime=True)
def iso_minute(value) -> str:
    """A datetime as YYYY-MM-DD HH:MM in the current time zone (`|date:"Y-m-d H:i"`); "" for anything else."""
    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, datetime) else ""
