"""Sharing settings (`/settings/sharing`) and accepting an invitation (`/invite/<token>`).

The patient is always the signed-in one (`principal.patient_id`), never a value from the
page: a request cannot manage somebody else's sharing. The repository checks again.
"""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import request

from auth.principal import current_principal, repository
from components import sharing as ui
from data.access import AccessDenied, Principal


def _patient() -> Principal:
    principal = current_principal()
    if principal.role != "patient" or principal.patient_id is None:
        raise AccessDenied("only patients manage their sharing")
    return principal


def _clicked() -> bool:
    """A real click (a list re-rendering its buttons also fires pattern-matching inputs)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


def register(app: Dash) -> None:
    """Bind the sharing and invitation callbacks."""

    @app.callback(
        Output(ui.CAREGIVER_LIST, "children"),
        Output(ui.PENDING_LIST, "children"),
        Output(ui.CLINICIAN_LIST, "children"),
        Output(ui.BREAK_GLASS_SEEN, "children"),
        Input(ui.SHARING_VERSION, "data"),
    )
    def lists(_version):
        principal = _patient()
        repo, pid = repository(), principal.patient_id
        return (ui.caregiver_rows(repo.caregivers(principal, pid)),
                ui.pending_rows(repo.invitations(principal, pid)),
                ui.clinician_rows(repo.care_team(principal, pid)),
                ui.break_glass_rows(repo.break_glass_for_patient(principal, pid)))

    @app.callback(
        Output(ui.SHARING_VERSION, "data"),
        Output(ui.SHARING_STATUS, "children"),
        Output(ui.INVITE_RESULT, "children"),
        Output(ui.INVITE_EMAIL, "value"),
        Output(ui.CLINICIAN_EMAIL, "value"),
        Input(ui.INVITE_BUTTON, "n_clicks"),
        Input(ui.CLINICIAN_GRANT, "n_clicks"),
        Input({"type": ui.REVOKE_CAREGIVER, "user": ALL}, "n_clicks"),
        Input({"type": ui.CANCEL_INVITATION, "invitation": ALL}, "n_clicks"),
        Input({"type": ui.REVOKE_CLINICIAN, "user": ALL}, "n_clicks"),
        State(ui.INVITE_EMAIL, "value"),
        State(ui.CLINICIAN_EMAIL, "value"),
        State(ui.SHARING_VERSION, "data"),
        prevent_initial_call=True,
    )
    def act(_invite, _grant, _revoke_cg, _cancel, _revoke_cl, invite_email, clinician_email,
            version):
        if not _clicked():
            return (no_update,) * 5
        principal = _patient()
        repo, pid, ip = repository(), principal.patient_id, request.remote_addr
        target = ctx.triggered_id
        kind = target.get("type") if isinstance(target, dict) else target
        link, invite_value, clinician_value = no_update, no_update, no_update
        try:
            if kind == ui.INVITE_BUTTON:
                token = repo.invite_caregiver(principal, pid, invite_email or "", ip=ip)
                email = (invite_email or "").strip().lower()
                link = ui.invitation_link(f"{request.host_url.rstrip('/')}/invite/{token}",
                                          email)
                message, invite_value = f"Invitation created for {email}.", ""
            elif kind == ui.CLINICIAN_GRANT:
                added = repo.grant_clinician_by_email(principal, pid, clinician_email or "",
                                                      ip=ip)
                message = ("Clinician added to your care team." if added
                           else "That clinician is already on your care team.")
                clinician_value = ""
            elif kind == ui.REVOKE_CAREGIVER:
                repo.revoke_caregiver(principal, pid, int(target["user"]), ip=ip)
                message = "Caregiver's access removed."
            elif kind == ui.CANCEL_INVITATION:
                repo.cancel_invitation(principal, pid, int(target["invitation"]), ip=ip)
                message = "Invitation cancelled."
            elif kind == ui.REVOKE_CLINICIAN:
                repo.revoke_clinician(principal, pid, int(target["user"]), ip=ip)
                message = "Clinician's access removed."
            else:
                return (no_update,) * 5
        except ValueError as exc:
            return no_update, f"Not done: {exc}.", no_update, no_update, no_update
        return (version or 0) + 1, message, link, invite_value, clinician_value

    @app.callback(
        Output(ui.ACCEPT_STATUS, "children"),
        Output(ui.ACCEPT_BUTTON, "disabled"),
        Input(ui.ACCEPT_BUTTON, "n_clicks"),
        State(ui.ACCEPT_TOKEN, "data"),
        prevent_initial_call=True,
    )
    def accept(clicks, token):
        if not clicks:
            return no_update, no_update
        principal, repo = current_principal(), repository()
        try:
            patient_id = repo.accept_invitation(principal, token or "", ip=request.remote_addr)
        except ValueError as exc:
            return f"Not accepted: {exc}.", True
        return ui.accepted(patient_id, repo.patient(principal, patient_id).name), True
