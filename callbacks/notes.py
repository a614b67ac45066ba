"""Notes on a patient's timeline, and "mark reviewed"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, ctx, html, no_update

from auth.principal import current_principal, repository
from callbacks.clinical import context
from components import ids


def _when(ts: int, tz: str) -> str:
    return f"{datetime.fromtimestamp(ts, ZoneInfo(tz)):%a %-d %b %Y %H:%M}"


def review_text(review, tz: str) -> str:
    """"Last reviewed by Dr X on Sat 28 Nov 2026 09:14" or "Not reviewed yet"."""
    if review is None:
        return "Not reviewed yet."
    return f"Last reviewed by {review.reviewer} on {_when(review.reviewed_ts, tz)} ({tz})."


def register(app: Dash) -> None:
    """Bind the notes and review callbacks."""

    @app.callback(
        Output(ids.CLIN_NOTE_LIST, "children"),
        Input(ids.CLIN_RANGE, "value"), Input(ids.CLIN_CUSTOM, "start_date"),
        Input(ids.CLIN_CUSTOM, "end_date"), Input(ids.CLIN_NOTES_VERSION, "data"),
        State(ids.PATIENT_STORE, "data"),
    )
    def note_list(range_key, custom_start, custom_end, _version, patient_id):
        principal, repo, window = context(range_key, custom_start, custom_end, patient_id)
        found = repo.notes(principal, patient_id, window.start, window.end)
        if not found:
            return [html.Li("No notes in this range.", className="muted")]
        return [
            html.Li([
                html.Time(f"{datetime.fromtimestamp(n.t_local, UTC):%a %-d %b %Y %H:%M}",
                          dateTime=datetime.fromtimestamp(n.at_ts, UTC).isoformat()),
                html.Span(f" · {n.author}", className="muted"),
                html.Div(n.text, className="note-text"),
            ], className="note") for n in reversed(found)
        ]

    @app.callback(
        Output(ids.CLIN_NOTES_VERSION, "data"),
        Output(ids.CLIN_NOTE_STATUS, "children"),
        Output(ids.CLIN_NOTE_TEXT, "value"),
        Input(ids.CLIN_NOTE_ADD, "n_clicks"),
        State(ids.CLIN_NOTE_WHEN, "value"), State(ids.CLIN_NOTE_TEXT, "value"),
        State(ids.CLIN_NOTES_VERSION, "data"), State(ids.PATIENT_STORE, "data"),
        prevent_initial_call=True,
    )
    def add_note(_clicks, when: str | None, text: str | None, version, patient_id):
        principal, repo = current_principal(), repository()
        tz = repo.patient(principal, patient_id).timezone
        try:
            if when:
                moment = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(tz))
                at = int(moment.timestamp())
            else:
                at = int(datetime.now(UTC).timestamp())
            repo.add_note(principal, patient_id, at, text or "")
        except ValueError as exc:
            return no_update, f"Not added: {exc}.", no_update
        return (version or 0) + 1, f"Note added for {_when(at, tz)}.", ""

    @app.callback(
        Output(ids.CLIN_REVIEW_TEXT, "children"),
        Input(ids.CLIN_REVIEW_BUTTON, "n_clicks"),
        State(ids.PATIENT_STORE, "data"),
    )
    def review(_clicks, patient_id):
        principal, repo = current_principal(), repository()
        tz = repo.patient(principal, patient_id).timezone
        if ctx.triggered_id == ids.CLIN_REVIEW_BUTTON:
            return review_text(repo.mark_reviewed(principal, patient_id), tz)
        return review_text(repo.last_review(principal, patient_id), tz)
