"""The frame around every page: navigation by role, the signed-in user, sign-out."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from components import ids

KEYS = ("API keys", "/settings/api-keys")
LINKS = {
    "patient": (("Overview", "/"), ("Heart rate", "/metrics/heart_rate"),
                ("Steps", "/metrics/steps"), ("Weight", "/metrics/body_mass"),
                ("Data sources", "/sources"), ("Sharing", "/settings/sharing"), KEYS),
    "caregiver": (("My patients", "/"), KEYS),
    "clinician": (("Patients", "/patients"), KEYS),
    # admins read patient data only through break-glass: "Patients" lists those sessions
    "admin": (("Users", "/admin/users"), ("Break-glass", "/admin/break-glass"),
              ("Patients", "/patients"), ("Audit log", "/admin/audit"), KEYS),
}


def shell(user_name: str | None, role: str | None, content: Component,
          csrf_token: str = "") -> html.Div:
    """Navbar plus page content; no navigation links for anonymous visitors.

    Sign-out is a POST form carrying the CSRF token: a link (GET) would let another site
    sign people out.
    """
    links = [dbc.NavItem(dbc.NavLink(label, href=href, active="exact"))
             for label, href in LINKS.get(role or "", ())]
    right = []
    if user_name:
        right = [
            html.Span(f"{user_name} · {role}", className="navbar-text me-3", id="nav-user"),
            html.Form([
                dcc.Input(type="hidden", name="csrf_token", value=csrf_token,
                          id="nav-logout-csrf"),
                html.Button("Sign out", type="submit", className="btn btn-outline-light btn-sm",
                            id="nav-logout"),
            ], method="POST", action="/logout", className="logout-form"),
        ]
    navbar = html.Nav(
        html.Div([
            html.A("HealthDash", href="/", className="navbar-brand"),
            dbc.Nav(links, navbar=True, className="me-auto"),
            html.Div(right, className="navbar-user"),
        ], className="container-fluid"),
        className="navbar navbar-dark", role="navigation",
    )
    return html.Div([
        dcc.Location(id=ids.LOCATION, refresh="callback-nav"),
        navbar,
        html.Main(content, className="container-fluid page", id="main"),
    ])
