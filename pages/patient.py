"""A clinician's view of one patient: clinical panels, notes, review and report."""

import dash

from auth.principal import current_principal, repository
from components.layouts import no_access
from components.patient_page import clinical_page

dash.register_page(__name__, path_template="/patients/<patient_id>",
                   title="Patient · HealthDash")


def layout(patient_id: str = "", **_query):
    """Clinical page of the patient in the path, or a plain refusal (the callbacks check too)."""
    pid = int(patient_id) if patient_id.isdigit() else -1
    principal = current_principal()
    if not repository().can_see(principal, pid):
        return no_access()
    return clinical_page(pid, clinician=principal.role == "clinician")
