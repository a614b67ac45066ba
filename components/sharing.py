"""Builders for sharing and administration: a patient's sharing settings, the invitation
page, users and care teams, break-glass, and a caregiver's list of patients.

Pure functions of their arguments (no repository calls); `callbacks.sharing` and
`callbacks.admin` fill them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from data.access import ROLES

# component ids (kept here: they belong to these pages only)
SHARING_VERSION = "sharing-version"
SHARING_STATUS = "sharing-status"
INVITE_EMAIL = "invite-email"
INVITE_BUTTON = "invite-button"
INVITE_RESULT = "invite-result"
INVITE_LINK = "invite-link"
CAREGIVER_LIST = "caregiver-list"
PENDING_LIST = "pending-list"
CLINICIAN_EMAIL = "clinician-email"
CLINICIAN_GRANT = "clinician-grant"
CLINICIAN_LIST = "clinician-list"
BREAK_GLASS_SEEN = "break-glass-seen"
REVOKE_CAREGIVER = "revoke-caregiver"  # pattern-matching type, {"type":…, "user": id}
CANCEL_INVITATION = "cancel-invitation"  # {"type":…, "invitation": id}
REVOKE_CLINICIAN = "revoke-clinician"  # {"type":…, "user": id}

ACCEPT_TOKEN = "accept-token"
ACCEPT_BUTTON = "accept-button"
ACCEPT_STATUS = "accept-status"

ADMIN_VERSION = "admin-version"
ADMIN_STATUS = "admin-status"
USER_TABLE = "user-table"
USER_PICK = "user-pick"
ROLE_PICK = "role-pick"
ROLE_SAVE = "role-save"
USER_ACTIVATE = "user-activate"
USER_DEACTIVATE = "user-deactivate"
TEAM_CLINICIAN = "team-clinician"
TEAM_PATIENT = "team-patient"
TEAM_ASSIGN = "team-assign"
TEAM_REMOVE = "team-remove"
TEAM_TABLE = "team-table"

BG_VERSION = "bg-version"
BG_PATIENT = "bg-patient"
BG_REASON = "bg-reason"
BG_MINUTES = "bg-minutes"
BG_START = "bg-start"
BG_STATUS = "bg-status"
BG_LIST = "bg-list"
BG_END = "bg-end"  # {"type":…, "session": id}

DURATIONS = ((15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours"),
             (240, "4 hours"))


def when(ts: int | None) -> str:
    """A UTC time as people read it."""
    if ts is None:
        return ""
    return f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M} UTC"


def _section(title: str, anchor: str, *children) -> html.Section:
    return html.Section([html.H2(title, id=anchor), *children],
                        className="chart-card mt-4", **{"aria-labelledby": anchor})


def _field(label: str, component_id: str, component) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component_id), component], className="me-3")


# --- a patient's sharing settings ----------------------------------------------------------


def sharing_page() -> html.Div:
    """Invite a caregiver, list and revoke caregivers and clinicians, see who has access."""
    return html.Div([
        dcc.Store(id=SHARING_VERSION, data=0),
        html.H1("Sharing"),
        html.P("Choose who may see your health data. Caregivers see it read-only; "
               "clinicians on your care team may also add notes and reports. "
               "Removing someone takes effect immediately.", className="muted"),
        html.P(id=SHARING_STATUS, role="status", className="fw-semibold"),
        _section("Invite a caregiver", "h-invite",
                 html.Div([
                     _field("Caregiver's e-mail", INVITE_EMAIL,
                            dcc.Input(id=INVITE_EMAIL, type="email", className="form-control",
                                      placeholder="name@example.org", autoComplete="off")),
                     html.Button("Create invitation", id=INVITE_BUTTON,
                                 className="btn btn-primary"),
                 ], className="toolbar sharing-form"),
                 html.Div(id=INVITE_RESULT)),
        _section("Caregivers", "h-caregivers", html.Div(id=CAREGIVER_LIST),
                 html.H3("Pending invitations", className="fs-6 mt-3", id="h-pending"),
                 html.Div(id=PENDING_LIST)),
        _section("Clinicians", "h-clinicians",
                 html.Div([
                     _field("Clinician's e-mail", CLINICIAN_EMAIL,
                            dcc.Input(id=CLINICIAN_EMAIL, type="email", className="form-control",
                                      placeholder="doctor@clinic.example", autoComplete="off")),
                     html.Button("Give access", id=CLINICIAN_GRANT,
                                 className="btn btn-primary"),
                 ], className="toolbar sharing-form"),
                 html.Div(id=CLINICIAN_LIST)),
        _section("Emergency access by administrators", "h-break-glass",
                 html.P("An administrator can open your data for a limited time with a stated "
                        "reason; every such access is logged.", className="muted"),
                 html.Div(id=BREAK_GLASS_SEEN)),
    ], id="sharing-page")


def invitation_link(url: str, email: str) -> html.Div:
    """The link, shown once, to send to the invited caregiver."""
    return html.Div([
        html.P(["Send this link to ", html.Strong(email),
                ". It works once, for that e-mail's account, for 7 days. It is shown only now."]),
        html.Label("Invitation link", htmlFor=INVITE_LINK),
        dcc.Input(id=INVITE_LINK, type="text", value=url, readOnly=True,
                  className="form-control invite-link"),
    ], className="invite-result", role="status")


def _table(caption: str, head: list[str], rows: list[list], empty: str, table_id: str):
    if not rows:
        return html.P(empty, className="muted", id=table_id)
    return html.Table([
        html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
        html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
    ], className="table sharing-table", id=table_id, **{"aria-label": caption})


def caregiver_rows(grants) -> html.Div:
    """Caregivers with a live grant, each with a revoke button."""
    return _table("Caregivers", ["Name", "E-mail", "Since", ""], [
        [g.name, g.email, when(g.since_ts),
         html.Button("Remove access", id={"type": REVOKE_CAREGIVER, "user": g.user_id},
                     className="btn btn-secondary btn-sm",
                     **{"aria-label": f"Remove {g.name}'s access"})]
        for g in grants
    ], "No caregivers.", "caregiver-table")


def pending_rows(invitations) -> html.Div:
    """Invitations not yet accepted, each with a cancel button."""
    return _table("Pending invitations", ["E-mail", "Expires", ""], [
        [i.email, when(i.expires_ts),
         html.Button("Cancel invitation", id={"type": CANCEL_INVITATION, "invitation": i.id},
                     className="btn btn-secondary btn-sm",
                     **{"aria-label": f"Cancel the invitation to {i.email}"})]
        for i in invitations
    ], "No pending invitations.", "pending-table")


def clinician_rows(grants) -> html.Div:
    """The care team, each with a revoke button."""
    return _table("Clinicians", ["Name", "E-mail", "Since", "Added by", ""], [
        [g.name, g.email, when(g.since_ts), g.granted_by,
         html.Button("Remove access", id={"type": REVOKE_CLINICIAN, "user": g.user_id},
                     className="btn btn-secondary btn-sm",
                     **{"aria-label": f"Remove {g.name}'s access"})]
        for g in grants
    ], "No clinicians on your care team.", "clinician-table")


def break_glass_rows(sessions) -> html.Div:
    """Live break-glass sessions on the patient."""
    return _table("Emergency access now open", ["Administrator", "Reason", "Until"], [
        [b.admin_name, b.reason, when(b.expires_ts)] for b in sessions
    ], "No administrator has emergency access now.", "break-glass-table")


def not_a_patient() -> html.Div:
    """/settings/sharing for someone without their own patient record."""
    return html.Div([
        html.H1("Sharing"),
        html.P("Sharing settings are for patients: they decide who sees their own data.",
               className="alert", role="alert"),
        html.A("Back to the start", href="/"),
    ], id="not-a-patient")


# --- invitation ----------------------------------------------------------------------------


def invitation_page(token: str, view=None, problem: str | None = None) -> html.Div:
    """Accepting a caregiver invitation (or why it cannot be accepted)."""
    if view is None:
        return html.Div([
            html.H1("Invitation"),
            html.P(f"This invitation cannot be used: {problem}.", className="alert",
                   role="alert", id="invite-problem"),
            html.A("Back to the start", href="/"),
        ])
    return html.Div([
        dcc.Store(id=ACCEPT_TOKEN, data=token),
        html.H1("Invitation"),
        html.P([html.Strong(view.invited_by), " invites you to see the health data of ",
                html.Strong(view.patient_name), " as a caregiver (read only). You can be "
                "removed at any time."]),
        html.P(f"This invitation expires on {when(view.expires_ts)}.", className="muted"),
        html.Button("Accept invitation", id=ACCEPT_BUTTON, className="btn btn-primary"),
        html.Div(id=ACCEPT_STATUS, role="status", className="mt-3"),
    ], id="invite-page")


def accepted(patient_id: int, name: str) -> html.Div:
    """After accepting: where to go."""
    return html.Div([
        html.P(f"You can now see {name}'s health data."),
        html.A(f"Open {name}'s page", href=f"/patients/{patient_id}", id="invite-open"),
    ])


# --- a caregiver's start page --------------------------------------------------------------


def caregiver_home(patients) -> html.Div:
    """The people who shared their data with this caregiver."""
    if not patients:
        body = html.P("No one has shared their data with you yet. Ask them to invite you "
                      "from their Sharing settings.", className="muted", id="caregiver-empty")
    else:
        body = html.Ul([
            html.Li(html.A(p.name, href=f"/patients/{p.id}", className="patient-link"))
            for p in patients
        ], className="caregiver-list", id="caregiver-patients")
    return html.Div([html.H1("People you care for"),
                     html.P("You can see their data; you cannot change it.", className="muted"),
                     body])


# --- admin: users and care teams -----------------------------------------------------------


def admin_users_page() -> html.Div:
    """Users and roles, activation, clinician ↔ patient assignments."""
    role_options = [{"label": r, "value": r} for r in ROLES]
    return html.Div([
        dcc.Store(id=ADMIN_VERSION, data=0),
        html.H1("Users"),
        html.P(id=ADMIN_STATUS, role="status", className="fw-semibold"),
        _section("Change a user", "h-change-user", html.Div([
            _field("User", USER_PICK, dbc.Select(id=USER_PICK, className="form-select")),
            _field("Role", ROLE_PICK, dbc.Select(id=ROLE_PICK, options=role_options,
                                                 className="form-select")),
            html.Button("Change role", id=ROLE_SAVE, className="btn btn-primary"),
            html.Button("Activate", id=USER_ACTIVATE, className="btn btn-outline-primary"),
            html.Button("Deactivate", id=USER_DEACTIVATE, className="btn btn-secondary"),
        ], className="toolbar admin-form")),
        _section("All users", "h-users", html.Div(id=USER_TABLE)),
        _section("Care teams", "h-care-teams", html.Div([
            _field("Clinician", TEAM_CLINICIAN,
                   dbc.Select(id=TEAM_CLINICIAN, className="form-select")),
            _field("Patient", TEAM_PATIENT, dbc.Select(id=TEAM_PATIENT, className="form-select")),
            html.Button("Assign", id=TEAM_ASSIGN, className="btn btn-primary"),
            html.Button("Remove", id=TEAM_REMOVE, className="btn btn-secondary"),
        ], className="toolbar admin-form"), html.Div(id=TEAM_TABLE)),
    ], id="admin-users")


def user_rows(users) -> html.Div:
    """Every account (never a password hash)."""
    return _table("Users", ["Name", "E-mail", "Role", "Status"], [
        [u.display_name, u.email, u.role, "active" if u.active else "deactivated"]
        for u in users
    ], "No users.", "users-table")


def assignment_rows(pairs) -> html.Div:
    """Clinician ↔ patient pairs."""
    return _table("Care-team assignments", ["Clinician", "Patient"], [
        [clinician, patient] for _cid, clinician, _pid, patient in pairs
    ], "No assignments.", "assignments-table")


# --- admin: break-glass --------------------------------------------------------------------


def break_glass_page() -> html.Div:
    """Start a session (patient, reason, duration), list one's live sessions, end one."""
    return html.Div([
        dcc.Store(id=BG_VERSION, data=0),
        html.H1("Break-glass access"),
        html.P("Administrators see no patient data. In an emergency, open one patient's data "
               "read-only for a limited time. The reason, the start and end, and every page "
               "you read are recorded in the audit log, and the patient can see it.",
               className="muted"),
        _section("Open access", "h-bg-start",
                 _field("Patient", BG_PATIENT, dbc.Select(id=BG_PATIENT, className="form-select")),
                 html.Div([
                     html.Label("Reason (at least 10 characters)", htmlFor=BG_REASON),
                     dcc.Textarea(id=BG_REASON, className="form-control", maxLength=2000,
                                  style={"minHeight": "5rem"}),
                 ], className="mt-2"),
                 html.Div(_field("Duration", BG_MINUTES, dbc.Select(
                     id=BG_MINUTES, value="30", className="form-select",
                     options=[{"label": label, "value": str(m)} for m, label in DURATIONS])),
                     className="mt-2"),
                 html.Button("Open access", id=BG_START, className="btn btn-primary mt-2"),
                 html.P(id=BG_STATUS, role="status", className="mt-2 fw-semibold")),
        _section("Your open sessions", "h-bg-list", html.Div(id=BG_LIST)),
    ], id="admin-break-glass")


def session_rows(sessions) -> html.Div:
    """One's live sessions: patient page link, reason, end time, end button."""
    return _table("Open break-glass sessions", ["Patient", "Reason", "Until", ""], [
        [html.A(b.patient_name, href=f"/patients/{b.patient_id}", className="bg-open"),
         b.reason, when(b.expires_ts),
         html.Button("End now", id={"type": BG_END, "session": b.id},
                     className="btn btn-secondary btn-sm",
                     **{"aria-label": f"End access to {b.patient_name}"})]
        for b in sessions
    ], "No open sessions.", "sessions-table")


def break_glass_banner(session) -> html.P:
    """Shown on a patient's page while an admin reads it through break-glass."""
    return html.P([
        html.Strong("Break-glass access (read only) "),
        f"until {when(session.expires_ts)}; reason: {session.reason}. Every read is logged. ",
        html.A("End or manage", href="/admin/break-glass"),
    ], className="alert", role="alert", id="break-glass-banner")
