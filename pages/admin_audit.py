"""Administrators search the audit log and check its hash chain: `/admin/audit`."""

import dash

from auth.principal import current_principal
from components.audit import audit_page
from components.layouts import no_access

dash.register_page(__name__, path="/admin/audit", title="Audit log · HealthDash")


def layout(**_query):
    """The search form and table for admins; "No access" for everyone else."""
    if current_principal().role != "admin":
        return no_access()
    return audit_page()
