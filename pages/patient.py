"""One patient's page: clinical panels, notes, and (for the care team) review and report.

Caregivers and administrators in break-glass get the same panels read-only.
"""

import dash

from auth.principal import current_principal, repository
from components.layouts import no_access
from components.patient_page import clinical_page
from components.sharing import break_glass_banner

dash.register_page(__name__, path_template="/patients/<patient_id>",
                   title="Patient · HealthDash")


def layout(patient_id: str = "", **_query):
    """Clinical page of the patient in the path, or a plain refusal (the callbacks check too)."""
    pid = int(patient_id) if patient_id.isdigit() else -1
    principal = current_principal()
    repo = repository()
    if not repo.can_see(principal, pid):
        return no_access()
    session = repo.break_glass_session(principal, pid)
    return clinical_page(pid, clinician=principal.role == "clinician",
                         can_write=repo.can_change(principal, pid),
                         notice=break_glass_banner(session) if session else None)
