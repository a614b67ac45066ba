"""Administrators manage accounts: `/admin/users` (roles, activation, care-team assignments)."""

import dash

from auth.principal import current_principal
from components.layouts import no_access
from components.sharing import admin_users_page

dash.register_page(__name__, path="/admin/users", title="Users · HealthDash")


def layout(**_query):
    """The forms and tables for admins; "No access" for everyone else."""
    if current_principal().role != "admin":
        return no_access()
    return admin_users_page()
