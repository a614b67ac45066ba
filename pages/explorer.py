"""Metric explorer: `/metrics/<metric>` (clinicians add `?patient=<id>`)."""

import dash

from auth.principal import current_principal
from components.layouts import explorer

dash.register_page(__name__, path_template="/metrics/<metric>", title="Metric · HealthDash")


def layout(metric: str = "heart_rate", patient: str | None = None, **_query):
    """The explorer for the metric; the patient is the signed-in one unless given."""
    if patient is not None and patient.isdigit():
        patient_id = int(patient)
    else:
        patient_id = current_principal().patient_id
    return explorer(metric, patient_id)
