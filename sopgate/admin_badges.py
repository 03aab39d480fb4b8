"""Status badges for the admin and the dashboard: a symbol and a word, never colour alone.

The admin styles them with static/admin/sopgate.css (loaded by templates/admin/base_site.html).
"""

from django.utils.html import format_html

_STYLES = {
    "good": ("✔", "badge-good"),
    "warn": ("▲", "badge-warn"),
    "bad": ("✖", "badge-bad"),
    "neutral": ("●", "badge-neutral"),
}


def badge(text: str, tone: str):
    symbol, css = _STYLES[tone]
    return format_html('<span class="sg-badge {}" title="{}">{} {}</span>', css, text, symbol, text)


def person(user) -> str | None:
    """A person as the admin shows them: full name, or username when no name is recorded; None for nobody."""
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def short_date(value):
    """A date as ISO `2026-01-21` (10 characters, sorts as it reads); None stays empty in a list."""
    return value.isoformat() if value else None
