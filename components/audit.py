"""The admin audit page: search form, the events table and the chain check (pure builders)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

PAGE_SIZE = 50

PATIENT = "audit-patient"
ACTOR = "audit-actor"
ACTION = "audit-action"
START = "audit-start"
END = "audit-end"
SEARCH = "audit-search"
PREV = "audit-prev"
NEXT = "audit-next"
PAGE = "audit-page"
TABLE = "audit-table"
STATUS = "audit-status"
VERIFY = "audit-verify"
VERIFY_RESULT = "audit-verify-result"

# Actions the product writes (sign-in, reads, consent, break-glass, accounts); "" is any.
ACTIONS = (
    ("", "Any action"),
    ("read", "read"), ("read_denied", "read_denied"),
    ("sign_in", "sign_in"), ("sign_in_failed", "sign_in_failed"), ("sign_out", "sign_out"),
    ("session_expired", "session_expired"), ("account_locked", "account_locked"),
    ("break_glass.start", "break_glass.start"), ("break_glass.end", "break_glass.end"),
    ("caregiver.grant", "caregiver.grant"), ("caregiver.revoke", "caregiver.revoke"),
    ("invitation.create", "invitation.create"), ("invitation.cancel", "invitation.cancel"),
    ("care_team.assign", "care_team.assign"), ("care_team.remove", "care_team.remove"),
    ("user_create", "user_create"), ("user.role", "user.role"),
    ("user.deactivate", "user.deactivate"), ("role_change", "role_change"),
    ("sso_bind", "sso_bind"),
)
COLUMNS = ("Time (UTC)", "Actor", "Role", "Action", "Patient", "Target", "Detail", "IP")


def _field(label: str, control, field_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=field_id, className="form-label"), control],
                    className="me-3 audit-field")


def audit_page() -> html.Div:
    """Filters, the table (filled by a callback), paging and the chain check."""
    return html.Div([
        html.H1("Audit log"),
        html.Div([
            _field("Patient id", dcc.Input(id=PATIENT, type="number", min=1, step=1,
                                           className="form-control"), PATIENT),
            _field("Actor (e-mail or user id)", dcc.Input(
                id=ACTOR, type="text", className="form-control", autoComplete="off"), ACTOR),
            _field("Action", dbc.Select(id=ACTION, options=[
                {"label": label, "value": value} for value, label in ACTIONS
            ], value="", className="form-select"), ACTION),
            _field("From (UTC date)", dcc.Input(id=START, type="date",
                                                className="form-control"), START),
            _field("To (UTC date, included)", dcc.Input(id=END, type="date",
                                                        className="form-control"), END),
            html.Button("Search", id=SEARCH, className="btn btn-primary align-self-end"),
        ], className="toolbar audit-filters", role="search"),
        dcc.Store(id=PAGE, data=0),
        html.P(id=STATUS, role="status", className="muted"),
        html.Div(id=TABLE, className="audit-table-wrap"),
        html.Div([
            html.Button("Newer", id=PREV, className="btn btn-secondary me-2", disabled=True),
            html.Button("Older", id=NEXT, className="btn btn-secondary", disabled=True),
        ], className="mt-2", role="group", **{"aria-label": "Pages"}),
        html.Section([
            html.H2("Integrity"),
            html.P("Walks the whole hash chain: a changed, deleted or reordered event "
                   "breaks it. Keep the head hash somewhere else to notice deleted newest "
                   "events.", className="muted"),
            html.Button("Verify chain", id=VERIFY, className="btn btn-outline-primary"),
            html.Div(id=VERIFY_RESULT, role="status", className="mt-2"),
        ], className="chart-card mt-4"),
    ])


def utc_text(ts: int) -> str:
    """'2026-11-28 09:14:03' in UTC."""
    return f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M:%S}"


def detail_text(detail: dict) -> str:
    """Compact JSON of an event's detail ('' when empty)."""
    return json.dumps(detail, sort_keys=True, separators=(", ", ": "), ensure_ascii=False,
                      default=str) if detail else ""


def events_table(events) -> html.Table | html.P:
    """One row per event, newest first (`events` are AuditEvent records)."""
    if not events:
        return html.P("No events match.", className="muted")
    rows = [html.Tr([
        html.Td(html.Time(utc_text(e.ts), dateTime=datetime.fromtimestamp(e.ts, UTC)
                          .isoformat())),
        html.Td(e.actor), html.Td(e.actor_role), html.Td(e.action),
        html.Td("" if e.patient_id is None else str(e.patient_id)),
        html.Td(e.target, className="audit-target"),
        html.Td(html.Code(detail_text(e.detail)) if e.detail else ""),
        html.Td(e.ip or ""),
    ], **{"data-event": str(e.id)}) for e in events]
    return html.Table([
        html.Caption("Audit events, newest first"),
        html.Thead(html.Tr([html.Th(c, scope="col") for c in COLUMNS])),
        html.Tbody(rows),
    ], className="table table-sm audit-table")


def verify_result(check) -> html.Div:
    """The outcome of `verify_audit` in words (an AuditCheck)."""
    if check.ok:
        return html.Div([
            html.P(f"Chain intact: {check.events:,} events checked.", className="fw-semibold",
                   id="audit-verify-ok"),
            html.P(["Head hash: ", html.Code(check.head)]),
        ])
    return html.Div([
        html.P(f"Chain broken at event {check.first_bad_id}: {check.problem}.",
               className="alert", role="alert", id="audit-verify-bad"),
        html.P(f"{check.events:,} events checked before it."),
        html.P(["Last good hash: ", html.Code(check.head)]),
    ])
