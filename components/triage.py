"""The triage table: one row per patient, flags ranked by severity, pure builders.

Severity is told by words and an icon shape as well as colour ("High", "Medium", "Low"),
so the list reads the same in black and white and to a screen reader.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dash import html

from components.clinical_stats import NO_VALUE, number, pressure, signed
from data.repository import TriageRow

PAGE_SIZE = 50
SORTS = {
    "urgency": "Most urgent first",
    "name": "Name",
    "stale": "Longest without data",
    "review": "Longest since review",
}
FILTERS = {
    "flagged": "Flagged",
    "unreviewed": "Not reviewed in 30 days",
    "missing": "No data for 3+ days",
}
SEVERITY = {3: ("High", "▲▲"), 2: ("Medium", "▲"), 1: ("Low", "•")}
_FAR_PAST = -(2**62)


def _reviewed_ts(row: TriageRow) -> int:
    return row.review.reviewed_ts if row.review else _FAR_PAST


def select_rows(rows: list[TriageRow], search: str | None, sort: str, filters: list[str],
                now: int | None = None) -> list[TriageRow]:
    """Search by name, keep the filtered rows, and order them."""
    now = now if now is not None else int(datetime.now(UTC).timestamp())
    if search and search.strip():
        needle = search.strip().lower()
        rows = [r for r in rows if needle in r.patient.name.lower()]
    if "flagged" in filters:
        rows = [r for r in rows if r.flags]
    if "unreviewed" in filters:
        rows = [r for r in rows if now - _reviewed_ts(r) > 30 * 86400]
    if "missing" in filters:
        rows = [r for r in rows if r.days_without_data is None or r.days_without_data >= 3]
    name = lambda r: (r.patient.name.lower(), r.patient.id)  # noqa: E731
    if sort == "name":
        return sorted(rows, key=name)
    if sort == "stale":
        return sorted(rows, key=lambda r: (-(r.days_without_data if r.days_without_data
                                             is not None else 1e9), *name(r)))
    if sort == "review":
        return sorted(rows, key=lambda r: (_reviewed_ts(r), *name(r)))
    return sorted(rows, key=lambda r: (-r.severity, _reviewed_ts(r), *name(r)))


def _freshness(row: TriageRow) -> list:
    if row.days_without_data is None:
        return ["No data yet"]
    days = int(row.days_without_data)
    text = "today" if days == 0 else ("1 day ago" if days == 1 else f"{days} days ago")
    sync = ""
    if row.last_sync_ts:
        sync = f"synced {datetime.fromtimestamp(row.last_sync_ts, UTC):%-d %b %Y} (UTC)"
    return [f"Last data {text}", html.Br(), html.Small(sync, className="muted")]


def _bp(stats: dict) -> list:
    bp = stats.get("bp")
    if not bp:
        return [NO_VALUE]
    when = datetime.fromtimestamp(bp["latest_local"], UTC)
    return [pressure(*bp["latest"]), html.Br(),
            html.Small(f"{bp['category']} · {when:%-d %b}", className="muted")]


def _rhr(stats: dict) -> list:
    rhr = stats.get("rhr")
    if not rhr:
        return [NO_VALUE]
    usual = NO_VALUE
    if rhr.get("base_q25") is not None:
        usual = f"usual {number(rhr['base_q25'])}–{number(rhr['base_q75'])}"
    return [number(rhr["recent_mean"], 0, "bpm"), html.Br(),
            html.Small(f"{usual} (90 days)", className="muted")]


def _weight(stats: dict) -> str:
    weight = stats.get("weight")
    return signed(weight.get("change_30d"), 1, "kg") if weight else NO_VALUE


def _tir(stats: dict) -> list:
    tir = stats.get("tir")
    if not tir:
        return [NO_VALUE]
    return [number(tir["in_range"], 0, "%"), html.Br(),
            html.Small(f"below 70: {number(tir['below_70'], 1, '%')}", className="muted")]


def _flags(row: TriageRow) -> list:
    if not row.flags:
        return [html.Span("None", className="muted")]
    items = []
    for flag in row.flags:
        word, icon = SEVERITY.get(flag["severity"], ("Low", "•"))
        items.append(html.Li([
            html.Span(f"{icon} {word}", className=f"severity severity-{flag['severity']}"),
            " ", html.Span(flag["label"], title=flag["detail"]),
        ]))
    return [html.Ul(items, className="flag-list")]


def _review(row: TriageRow) -> list:
    if row.review is None:
        return ["Never"]
    when = datetime.fromtimestamp(row.review.reviewed_ts, UTC)
    return [f"{when:%-d %b %Y}", html.Br(), html.Small(row.review.reviewer, className="muted")]


COLUMNS = ("Patient", "Age", "Data", "Blood pressure (latest)", "Resting HR (7 d)",
           "Weight (30 d)", "SpO2 min (7 d)", "Glucose in range (14 d)", "Flags",
           "Last reviewed")


def triage_table(rows: list[TriageRow], *, has_filter: bool) -> html.Table | html.P:
    """The table of one page of rows."""
    if not rows:
        return html.P("No patients match." if has_filter else "No patients on your care team.")
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in COLUMNS]))
    body = html.Tbody([
        html.Tr([
            html.Th(html.A(r.patient.name, href=f"/patients/{r.patient.id}",
                           className="patient-link"), scope="row"),
            html.Td(r.patient.age() if r.patient.birth_date else NO_VALUE),
            html.Td(_freshness(r)), html.Td(_bp(r.stats)), html.Td(_rhr(r.stats)),
            html.Td(_weight(r.stats)),
            html.Td(number(r.stats.get("spo2_min_7d"), 0, "%")),
            html.Td(_tir(r.stats)), html.Td(_flags(r)), html.Td(_review(r)),
        ], className=f"triage-row severity-row-{r.severity}",
            **{"data-patient": str(r.patient.id)})
        for r in rows
    ])
    return html.Table([
        html.Caption("Times of data are the patient's local dates; flags are ranked by "
                     "severity (High ▲▲, Medium ▲, Low •)."),
        head, body,
    ], className="table patient-table triage-table")
