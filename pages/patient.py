"""A clinician's view of one patient: the same overview, plus maintenance jobs."""

import dash

from components.layouts import overview

dash.register_page(__name__, path_template="/patients/<patient_id>",
                   title="Patient · HealthDash")


def layout(patient_id: str = "", **_query):
    """Overview of the patient in the path; the callbacks check access."""
    return overview(int(patient_id) if patient_id.isdigit() else -1, job_controls=True)
