"""Table bodies of the program page's tables (blockers, suppliers, handover areas, trend, PPAP, capacity, tests).

Built in Python rather than with template loops: at hundreds of rows, the template engine's cost per variable,
per `{% url %}` and per localized number was most of the page's time. Every value that is not a number is
escaped here, and each function returns a SafeString for the template to drop into a <tbody>.

The program page is kept ASCII: characters outside it are written as character references (`&ndash;`,
`&#10004;`), which a browser shows as the characters themselves. A single other character anywhere makes Python
hold the whole ~380 KB page at two bytes a character, and joining and encoding it then took ~2 ms more.
"""

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from ..templatetags.sopgate_pages import page_url


def _url_around_id(name: str) -> tuple[str, str]:
    """The admin URL named `name` split around its object id, for rows that format it inline (the URL itself
    kept once per process by `page_url`: `reverse` took ~50 µs, and the page needs six)."""
    head, tail = page_url(name, 0).rsplit("/0/", 1)
    return f"{head}/", f"/{tail}"


def _safe(rows: Iterable[str]) -> SafeString:
    return mark_safe("".join(rows))  # noqa: S308 -- every value in the rows was escaped where it was put in


def ascii_html(html: str) -> str:
    """`html` with each character outside ASCII written as a numeric character reference."""
    return html if html.isascii() else html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def ascii_safe(html: SafeString) -> SafeString:
    """`ascii_html` of markup that is already safe (a badge), still marked safe."""
    return html if html.isascii() else _safe([ascii_html(html)])


def escape_text(text: str) -> str:
    """`escape`, in ASCII."""
    return ascii_html(escape(text))


def escape_all(texts: list[str]) -> list[str]:
    """`escape_text` of each text, in one call for all of them.

    Escaping is per character, so escaping the texts joined by a character it leaves alone and splitting there
    again gives each text escaped: one pass over the long columns of a table instead of a call per cell."""
    if not texts:
        return []
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:  # a text holds the separator itself: escape one by one
        return [escape_text(text) for text in texts]
    return escape_text(joined).split("\0")


BLOCKER_TABLE_HEAD = (
    '<div class="sg-tablewrap"><table class="sg-table sg-blockers">\n<thead><tr><th scope="col">Object</th>'
    '<th scope="col">Owner</th><th scope="col" class="sg-num">Age</th><th scope="col">Message</th></tr></thead>\n'
    "<tbody>"
)


def blocker_groups(groups, *, change_urls: dict[str, str]) -> SafeString:
    """The open blockers, one headed table per rule, in one string (built in one join: the rows are most of the
    page). `groups` are `(gate.BlockerGroup, rule label, severity badge, admin URL of all its blockers)`;
    `change_urls` name the admin change page of each object type.

    A row links the object to its admin page and shows owners, age in days and the message. Messages start with
    the object's label, which the Object column already shows: the cell drops it and keeps the whole message as
    its tooltip (escaping is per character, so the label is cut from the escaped message)."""
    rows = [row for group, *_ in groups for row in group.rows]
    labels = iter(escape_all([row.object_label for row in rows]))
    messages = iter(escape_all([row.message for row in rows]))
    owners = {name: escape_text(name) for name in {row.owners for row in rows}}  # a few people own most blockers
    urls = {object_type: _url_around_id(name) for object_type, name in change_urls.items()}
    html: list[str] = []
    for group, rule_label, badge, all_url in groups:
        rule_label = escape_text(rule_label)
        html.append(
            f'<div class="sg-group">\n<h3 id="rule-{group.rule}">{badge} {rule_label} '
            f'<span class="sg-count">({group.total})</span></h3>\n{BLOCKER_TABLE_HEAD}'
        )
        # `labels` and `messages` run on through every group: this group's rows take the next of each.
        html += [
            f'<tr><th scope="row"><a href="{head}{row.object_id}{tail}" '
            f'class="sg-blocker-link">{label}</a></th><td>{owners[row.owners]}</td>'
            f'<td class="sg-num">{row.age_days} d</td><td title="{message}">{message.removeprefix(f"{label}: ")}</td></tr>'
            for row, label, message in zip(group.rows, labels, messages, strict=False)
            for head, tail in (urls[row.object_type],)  # the row's URL pair, looked up once
        ]
        html.append("</tbody>\n</table></div>\n")
        if group.not_shown:
            html.append(
                f'<p class="sg-small sg-more">The oldest {len(group.rows)} shown. <a href="{escape_text(all_url)}">'
                f"All {group.total} open &ldquo;{rule_label}&rdquo; warnings in the admin</a> ({group.not_shown} more).</p>\n"
            )
        html.append("</div>\n")
    return _safe(html)


def percent_text(done: int, total: int) -> str:
    """`str(readiness_percent(done, total))` for counts, in integers: half up to tenths is
    floor((2000·done + total) / (2·total)), and 100.0 when there is nothing to do. A few hundred rows call it;
    Decimal division took ten times longer."""
    if not total:
        return "100.0"
    tenths = (2000 * done + total) // (2 * total)
    return f"{tenths // 10}.{tenths % 10}"


def supplier_rows(scores) -> SafeString:
    """Rows of `selectors.SupplierScore`, a few hundred on a large program: each score is unpacked once."""
    head, tail = _url_around_id("admin:parts_supplier_change")
    codes = escape_all([s.code for s in scores])
    names = escape_all([s.name for s in scores])
    return _safe(
        f'<tr><td><a href="{head}{supplier_id}{tail}">{code}</a> <span class="sg-small sg-muted">{name}</span></td>'
        f'<td class="sg-num">{parts}</td><td class="sg-num">{late}</td><td class="sg-num">{stale}</td>'
        f'<td class="sg-num">{f"{kept} / {due} ({percent_text(kept, due)} %)" if due else "&ndash;"}</td>'
        f'<td class="sg-num">{blocking} blocking{f", {warnings} warn." if warnings else ""}</td></tr>'
        for (supplier_id, _, _, parts, late, stale, due, kept, blocking, warnings), code, name in zip(
            scores, codes, names, strict=True
        )
    )


def _signed(signed: bool) -> str:
    return "&#10004; signed" if signed else "&#10006; unsigned"


def handover_rows(areas) -> SafeString:
    """Rows of `selectors.AreaProgress`."""
    head, tail = _url_around_id("admin:validation_handoverchecklist_change")
    return _safe(
        f'<tr><td><a href="{head}{a.checklist_id}{tail}">{area}</a></td>'
        f'<td class="sg-num">{a.done_items} / {a.required_items}</td><td class="sg-num">{a.open_items}</td>'
        f'<td class="sg-num">{a.overdue_items}</td><td>{_signed(a.rd_signed_off)}</td>'
        f"<td>{_signed(a.production_signed_off)}</td></tr>"
        for a, area in zip(areas, escape_all([a.area for a in areas]), strict=True)
    )


def trend_rows(snapshots) -> SafeString:
    """Rows of `selectors.TrendPoint`, newest first."""
    return _safe(
        f'<tr><td class="sg-nowrap">{s.date:%Y-%m-%d}</td><td>{escape_text(s.decision_label)}</td>'
        f'<td class="sg-num">{s.readiness_pct} %</td><td class="sg-num">{s.blocking_count}</td>'
        f'<td class="sg-num">{s.warning_count}</td>'
        f"<td>{f'{s.forecast_sop_date:%Y-%m-%d}' if s.forecast_sop_date else 'unknown'}</td></tr>"
        for s in reversed(snapshots)
    )


def ppap_rows(rows) -> SafeString:
    """Rows of `charts_page._ppap`'s table: status, parts, share."""
    return _safe(
        f'<tr><td>{escape_text(r["status"].label)}</td><td class="sg-num">{r["count"]}</td>'
        f'<td class="sg-num">{r["pct"]} %</td></tr>'
        for r in rows
    )


def _gap(m) -> str:
    gap = m.gap_vehicles
    return f' <span class="sg-flag">&#10006; {gap}</span>' if gap is not None and gap < 0 else ""


def capacity_rows(months) -> SafeString:
    """Rows of `selectors.RampCoverage`; a month the bottleneck cannot supply is flagged with its gap."""
    return _safe(
        f'<tr><td>{m.month:%b %Y}</td><td class="sg-num">{m.planned_vehicles}</td>'
        f'<td class="sg-num">{m.weekly_vehicles}</td><td class="sg-num">{m.bottleneck_vehicles or "&ndash;"}{_gap(m)}</td>'
        f'<td class="sg-num">{m.covered}</td><td class="sg-num">{m.short}</td><td class="sg-num">{m.unconfirmed}</td>'
        f'<td class="sg-num">{m.covered_pct} %</td></tr>'
        for m in months
    )


def status_headers(statuses) -> SafeString:
    return _safe(f'<th scope="col" class="sg-num">{escape_text(s.label)}</th>' for s in statuses)


def phase_rows(phases, statuses) -> SafeString:
    """Rows of `selectors.PhaseRow`: tests per status, then the total."""
    return _safe(
        f"<tr><td>{escape_text(p.label)}</td>"
        + "".join(f'<td class="sg-num">{p.by_status[s.value]}</td>' for s in statuses)
        + f'<td class="sg-num">{p.total}</td></tr>'
        for p in phases
    )
