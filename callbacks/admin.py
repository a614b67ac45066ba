"""Administration: users and roles, care-team assignments (`/admin/users`) and break-glass
(`/admin/break-glass`). Admin-only: anyone else gets 403 from the AccessDenied handler, and
the repository refuses too."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import request

from auth.principal import current_principal, repository
from components import sharing as ui
from data.access import AccessDenied, Principal


def _admin() -> Principal:
    principal = current_principal()
    if principal.role != "admin":
        raise AccessDenied("only administrators manage users and break-glass")
    return principal


def _id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("choose from the lists first") from None


def register(app: Dash) -> None:
    """Bind the admin callbacks."""

    @app.callback(
        Output(ui.USER_TABLE, "children"),
        Output(ui.USER_PICK, "options"),
        Output(ui.TEAM_CLINICIAN, "options"),
        Output(ui.TEAM_PATIENT, "options"),
        Output(ui.TEAM_TABLE, "children"),
        Input(ui.ADMIN_VERSION, "data"),
    )
    def users(_version):
        principal, repo = _admin(), repository()
        everyone = repo.list_users(principal)
        people = [{"label": f"{u.display_name} <{u.email}> · {u.role}"
                            + ("" if u.active else " (deactivated)"), "value": str(u.id)}
                  for u in everyone]
        clinicians = [{"label": f"{u.display_name} <{u.email}>", "value": str(u.id)}
                      for u in everyone if u.role == "clinician" and u.active]
        patients = [{"label": f"{name} (#{pid})", "value": str(pid)}
                    for pid, name in repo.patient_directory(principal)]
        return (ui.user_rows(everyone), people, clinicians, patients,
                ui.assignment_rows(repo.assignments(principal)))

    @app.callback(
        Output(ui.ADMIN_VERSION, "data"),
        Output(ui.ADMIN_STATUS, "children"),
        Input(ui.ROLE_SAVE, "n_clicks"),
        Input(ui.USER_ACTIVATE, "n_clicks"),
        Input(ui.USER_DEACTIVATE, "n_clicks"),
        Input(ui.TEAM_ASSIGN, "n_clicks"),
        Input(ui.TEAM_REMOVE, "n_clicks"),
        State(ui.USER_PICK, "value"),
        State(ui.ROLE_PICK, "value"),
        State(ui.TEAM_CLINICIAN, "value"),
        State(ui.TEAM_PATIENT, "value"),
        State(ui.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )
    def act(_role, _on, _off, _assign, _remove, user, role, clinician, patient, version):
        principal, repo, ip = _admin(), repository(), request.remote_addr
        which = ctx.triggered_id
        try:
            if which == ui.ROLE_SAVE:
                if not role:
                    raise ValueError("choose a role")
                changed = repo.set_role(principal, _id(user), role, ip=ip)
                message = f"Role changed to {role}." if changed else "The role was unchanged."
            elif which in (ui.USER_ACTIVATE, ui.USER_DEACTIVATE):
                active = which == ui.USER_ACTIVATE
                changed = repo.set_active(principal, _id(user), active, ip=ip)
                word = "activated" if active else "deactivated"
                message = f"Account {word}." if changed else f"The account was already {word}."
            elif which == ui.TEAM_ASSIGN:
                added = repo.grant_clinician(principal, _id(patient), _id(clinician), ip=ip)
                message = "Clinician assigned." if added else "Already assigned."
            elif which == ui.TEAM_REMOVE:
                gone = repo.revoke_clinician(principal, _id(patient), _id(clinician), ip=ip)
                message = "Clinician removed." if gone else "That clinician was not assigned."
            else:
                return no_update, no_update
        except (ValueError, KeyError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            return no_update, f"Not done: {text}."
        return (version or 0) + 1, message

    @app.callback(
        Output(ui.BG_PATIENT, "options"),
        Output(ui.BG_LIST, "children"),
        Input(ui.BG_VERSION, "data"),
    )
    def sessions(_version):
        principal, repo = _admin(), repository()
        patients = [{"label": f"{name} (#{pid})", "value": str(pid)}
                    for pid, name in repo.patient_directory(principal)]
        return patients, ui.session_rows(repo.break_glass_sessions(principal))

    @app.callback(
        Output(ui.BG_VERSION, "data"),
        Output(ui.BG_STATUS, "children"),
        Output(ui.BG_REASON, "value"),
        Input(ui.BG_START, "n_clicks"),
        Input({"type": ui.BG_END, "session": ALL}, "n_clicks"),
        State(ui.BG_PATIENT, "value"),
        State(ui.BG_REASON, "value"),
        State(ui.BG_MINUTES, "value"),
        State(ui.BG_VERSION, "data"),
        prevent_initial_call=True,
    )
    def break_glass(_start, _ends, patient, reason, minutes, version):
        if not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update, no_update
        principal, repo, ip = _admin(), repository(), request.remote_addr
        which = ctx.triggered_id
        try:
            if which == ui.BG_START:
                session = repo.start_break_glass(principal, _id(patient), reason or "",
                                                 _id(minutes or 30), ip=ip)
                return ((version or 0) + 1,
                        f"Access to {session.patient_name} open until "
                        f"{ui.when(session.expires_ts)}.", "")
            if isinstance(which, dict) and which.get("type") == ui.BG_END:
                repo.end_break_glass(principal, int(which["session"]), ip=ip)
                return (version or 0) + 1, "Session ended.", no_update
        except (ValueError, KeyError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            return no_update, f"Not done: {text}.", no_update
        return no_update, no_update, no_update
