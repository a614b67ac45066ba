"""A clinician's view of one patient: the same overview, plus maintenance jobs."""

import dash

from auth.principal import current_principal, repository
from components.layouts import no_access, overview

dash.register_page(__name__, path_template="/patients/<patient_id>",
                   title="Patient · HealthDash")


def layout(patient_id: str = "", **_query):
    """Overview of the patient in the path, or a plain refusal (the callbacks check too)."""
    pid = int(patient_id) if patient_id.isdigit() else -1
    if not repository().can_see(current_principal(), pid):
        return no_access()
    return overview(pid, job_controls=True)
