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
