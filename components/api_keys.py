"""The API keys settings page's pieces: ids, the key table and the one-time key notice."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import dcc, html

SCOPES = "api-key-scopes"
CREATE = "api-key-create"
NEW_KEY = "api-key-new"
NEW_KEY_VALUE = "api-key-new-value"
TABLE = "api-key-table"
STATUS = "api-key-status"
VERSION = "api-key-version"
REVOKE = "api-key-revoke"  # pattern-matching type: {"type": REVOKE, "key": <id>}

SCOPE_OPTIONS = [
    {"label": " read — fetch series, statistics and import progress", "value": "read"},
    {"label": " ingest — upload data and start imports", "value": "ingest"},
]


def when(ts: int | None) -> str:
    """An epoch second as a UTC date and time, or 'never'."""
    if ts is None:
        return "never"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def keys_table(keys: list) -> html.Div:
    """The user's keys (objects with id, prefix, scopes, created_ts, last_used_ts,
    revoked_ts); revoke buttons on the live ones."""
    if not keys:
        return html.Div(html.P("You have no API keys.", className="muted"))
    head = html.Thead(html.Tr([html.Th(label, scope="col") for label in (
        "Key", "Scopes", "Created", "Last used", "Status", "Action")]))
    rows = []
    for key in keys:
        label = f"hd_{key.prefix}_…"
        action = (html.Span("—", className="muted") if key.revoked_ts else html.Button(
            "Revoke", id={"type": REVOKE, "key": key.id}, className="btn btn-secondary btn-sm",
            **{"aria-label": f"Revoke key {label}"}))
        rows.append(html.Tr([
            html.Td(html.Code(label)), html.Td(", ".join(key.scopes)),
            html.Td(when(key.created_ts)), html.Td(when(key.last_used_ts)),
            html.Td(f"revoked {when(key.revoked_ts)}" if key.revoked_ts else "active"),
            html.Td(action),
        ], className="revoked" if key.revoked_ts else None))
    return html.Div(html.Table([html.Caption("Your API keys"), head, html.Tbody(rows)],
                               className="table"))


def new_key_notice(token: str, scopes: list[str]) -> html.Div:
    """The full key, shown this once."""
    return html.Div([
        html.P(["Your new key (", ", ".join(scopes), "). Copy it now: it is not stored and ",
                html.Strong("will not be shown again"), "."]),
        html.Label("New API key", htmlFor=NEW_KEY_VALUE),
        dcc.Input(id=NEW_KEY_VALUE, value=token, readOnly=True, type="text",
                  className="form-control api-key-value", spellCheck=False,
                  autoComplete="off"),
        html.P(["Use it as ", html.Code("Authorization: Bearer <key>"), " with /api/v1."],
               className="muted"),
    ], className="alert")
