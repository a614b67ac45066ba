"""Import progress and report, as components (pure: a job's public dict in, Dash out)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import html

RANKED_METRICS = (("steps", "Steps"), ("distance", "Distance"),
                  ("active_energy", "Active energy"), ("sleep_stage", "Sleep"))
STATE_TEXT = {
    "queued": "Waiting to start", "running": "Importing", "done": "Finished",
    "partial": "Finished with damage: part of the file was imported",
    "failed": "Failed: nothing more was imported", "cancelled": "Cancelled",
}


def _when(ts: int | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def job_progress(job: dict[str, Any], now: int) -> html.Div:
    """Progress of one import: state, a bar by bytes, records, elapsed time and rate."""
    started = job.get("started_ts") or now
    finished = job.get("finished_ts")
    elapsed = max((finished or now) - started, 0)
    records = job.get("records_done") or 0
    percent = job.get("percent")
    if job["state"] == "done":
        percent = 100.0
    rate = f"{records / elapsed:,.0f} records/s" if elapsed else "—"
    parts = [
        html.P([html.Strong(STATE_TEXT.get(job["state"], job["state"])), f" · {job['filename']}"],
               id="job-state", **{"data-state": job["state"]}),
        html.Progress(value=str(percent or 0), max="100", className="job-progress",
                      **{"aria-label": "Import progress"}),
        html.Span(f" {percent:.1f}% of the file" if percent is not None else "", className="ms-2"),
        html.P(f"{records:,} records read · {job.get('rows_inserted', 0):,} new, "
               f"{job.get('rows_duplicate', 0):,} already stored · {elapsed} s elapsed · {rate}",
               id="job-counts", className="muted"),
    ]
    if job.get("message"):
        parts.append(html.P(job["message"], className="alert", role="alert", id="job-message"))
    if job.get("report") and job.get("finished_ts"):
        parts.append(import_report(job["report"]))
    return html.Div(parts)


def import_report(report: dict[str, Any]) -> html.Div:
    """Per type: imported, duplicates, not understood; date range, sources, warnings."""
    rows = [
        html.Tr([html.Td(hk), html.Td(f"{c['imported']:,}"), html.Td(f"{c['duplicates']:,}"),
                 html.Td(f"{c['not_understood']:,}")])
        for hk, c in sorted(report.get("types", {}).items(),
                            key=lambda item: -(item[1]["imported"] + item[1]["duplicates"]))
    ]
    table = html.Table([
        html.Thead(html.Tr([html.Th(h, scope="col") for h in
                            ("Type", "Imported", "Already stored", "Not understood")])),
        html.Tbody(rows),
    ], className="table", id="import-report")
    sources = report.get("sources", {})
    warnings = report.get("warnings", [])
    return html.Div([
        html.H3("Import report"),
        html.P(f"Data from {_when(report.get('first_ts'))} to {_when(report.get('last_ts'))}."),
        table,
        html.P("Sources: " + (", ".join(f"{name} ({device})" if device else name
                                          for name, device in sorted(sources.items()))
                              or "none")),
        html.Details([html.Summary(f"{len(warnings)} warnings"),
                      html.Ul([html.Li(w) for w in warnings[:100]])]) if warnings else None,
    ])


def job_history(jobs: list[dict[str, Any]]) -> html.Table | html.P:
    """The latest imports of a patient."""
    if not jobs:
        return html.P("No imports yet.", className="muted")
    return html.Table([
        html.Thead(html.Tr([html.Th(h, scope="col") for h in
                            ("Started", "File", "State", "New rows", "Already stored")])),
        html.Tbody([html.Tr([
            html.Td(_when(j.get("started_ts") or j.get("created_ts"))), html.Td(j["filename"]),
            html.Td(STATE_TEXT.get(j["state"], j["state"])), html.Td(f"{j['rows_inserted']:,}"),
            html.Td(f"{j['rows_duplicate']:,}"),
        ]) for j in jobs]),
    ], className="table")
