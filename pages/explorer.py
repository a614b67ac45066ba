"""Metric explorer: `/metrics/<metric>` (clinicians add `?patient=<id>`)."""

import dash

from auth.principal import current_principal, repository
from components.layouts import explorer, no_access

dash.register_page(__name__, path_template="/metrics/<metric>", title="Metric · HealthDash")


def layout(metric: str = "heart_rate", patient: str | None = None, **_query):
    """The explorer for the metric; the patient is the signed-in one unless given."""
    principal = current_principal()
    patient_id = int(patient) if patient and patient.isdigit() else principal.patient_id
    if patient_id is None or not repository().can_see(principal, patient_id):
        return no_access()
    return explorer(metric, patient_id)
