"""The audit page: search (patient, actor, action, UTC dates), 50 per page, chain check.

Both callbacks are admin-only: anyone else gets 403 from the AccessDenied handler.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dash import Dash, Input, Output, State, ctx

from auth.principal import current_principal, repository
from components import audit as ui
from data.access import AccessDenied, Principal

DAY = 86400


def _admin() -> Principal:
    principal = current_principal()
    if principal.role != "admin":
        raise AccessDenied("only admins read the audit log")
    return principal


def _day_ts(value: str | None) -> int | None:
    if not value:
        return None
    return int(datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
               .timestamp())


def filters(patient, actor: str | None, action: str | None, start: str | None,
            end: str | None) -> dict:
    """Search arguments for `audit_events`; ValueError with a message for bad input."""
    args: dict = {"action": action or None}
    if patient not in (None, ""):
        try:
            args["patient_id"] = int(patient)
        except (TypeError, ValueError):
            raise ValueError("the patient id is a whole number") from None
    actor = (actor or "").strip()
    if actor.isdigit():
        args["actor_id"] = int(actor)
    elif actor:
        user = repository().user_by_email(actor)
        if user is None:
            raise ValueError(f"no user with e-mail {actor}")
        args["actor_id"] = user.id
    try:
        args["start_ts"] = _day_ts(start)
        end_ts = _day_ts(end)
    except ValueError:
        raise ValueError("dates look like 2026-11-28") from None
    args["end_ts"] = end_ts + DAY if end_ts is not None else None
    return args


def register(app: Dash) -> None:
    """Bind the audit page's callbacks."""

    @app.callback(
        Output(ui.TABLE, "children"), Output(ui.STATUS, "children"),
        Output(ui.PAGE, "data"), Output(ui.PREV, "disabled"), Output(ui.NEXT, "disabled"),
        Input(ui.SEARCH, "n_clicks"), Input(ui.PREV, "n_clicks"), Input(ui.NEXT, "n_clicks"),
        State(ui.PATIENT, "value"), State(ui.ACTOR, "value"), State(ui.ACTION, "value"),
        State(ui.START, "value"), State(ui.END, "value"), State(ui.PAGE, "data"),
    )
    def search(_s, _p, _n, patient, actor, action, start, end, page):
        principal = _admin()
        page = int(page or 0)
        page = {ui.PREV: max(page - 1, 0), ui.NEXT: page + 1}.get(ctx.triggered_id, 0)
        try:
            args = filters(patient, actor, action, start, end)
        except ValueError as exc:
            return ui.events_table([]), f"Not searched: {exc}.", 0, True, True
        found = repository().audit_events(principal, limit=ui.PAGE_SIZE + 1,
                                          offset=page * ui.PAGE_SIZE, **args)
        more = len(found) > ui.PAGE_SIZE
        found = found[:ui.PAGE_SIZE]
        first = page * ui.PAGE_SIZE + 1
        status = (f"Events {first:,}–{first + len(found) - 1:,}, newest first."
                  if found else "No events match.")
        return ui.events_table(found), status, page, page == 0, not more

    @app.callback(
        Output(ui.VERIFY_RESULT, "children"),
        Input(ui.VERIFY, "n_clicks"),
        prevent_initial_call=True,
    )
    def verify(_clicks):
        _admin()
        return ui.verify_result(repository().verify_audit())
