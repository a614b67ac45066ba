"""API keys page: create (the full key shown once), revoke, list. Each acts on the signed-in
user's own keys only; the repository writes the audit events."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate
from flask import request

from auth.principal import current_principal, repository
from components import api_keys as ui
from data.repository.keys import SCOPES


def _user_id() -> int:
    principal = current_principal()
    if principal.user_id is None:
        raise PermissionError("API keys belong to a signed-in user")
    return principal.user_id


def register(app: Dash) -> None:
    """Bind the page's callbacks."""

    @app.callback(
        Output(ui.NEW_KEY, "children"), Output(ui.VERSION, "data"),
        Input(ui.CREATE, "n_clicks"), State(ui.SCOPES, "value"), State(ui.VERSION, "data"),
        prevent_initial_call=True,
    )
    def create(clicks, scopes, version):
        if not clicks:
            raise PreventUpdate
        user_id = _user_id()
        chosen = sorted({s for s in (scopes or []) if s in SCOPES})
        if not chosen or len(chosen) != len(set(scopes or [])):
            return html.P("Choose at least one scope: read, ingest.", className="alert"), \
                version
        token = repository().create_api_key(user_id, chosen, actor=current_principal(),
                                            ip=request.remote_addr)
        return ui.new_key_notice(token, chosen), (version or 0) + 1

    @app.callback(
        Output(ui.STATUS, "children"), Output(ui.VERSION, "data", allow_duplicate=True),
        Input({"type": ui.REVOKE, "key": ALL}, "n_clicks"), State(ui.VERSION, "data"),
        prevent_initial_call=True,
    )
    def revoke(clicks, version):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []):
            raise PreventUpdate  # buttons appearing after a refresh, not a click
        key_id = trigger.get("key")
        if not isinstance(key_id, int) or isinstance(key_id, bool):
            raise PreventUpdate
        done = repository().revoke_api_key(_user_id(), key_id, actor=current_principal(),
                                           ip=request.remote_addr)
        message = "Key revoked: scripts using it now get 401." if done else \
            "That key was not found among your active keys."
        return message, (version or 0) + 1

    @app.callback(Output(ui.TABLE, "children"), Input(ui.VERSION, "data"),
                  prevent_initial_call=True)
    def table(_version):
        return ui.keys_table(repository().api_keys_of(_user_id()))
