"""An administrator's emergency access to one patient: `/admin/break-glass`."""

import dash

from auth.principal import current_principal
from components.layouts import no_access
from components.sharing import break_glass_page

dash.register_page(__name__, path="/admin/break-glass", title="Break-glass · HealthDash")


def layout(**_query):
    """Start, list and end one's sessions (admins); "No access" for everyone else."""
    if current_principal().role != "admin":
        return no_access()
    return break_glass_page()
