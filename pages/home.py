"""The signed-in patient's own page: the same clinical panels their clinicians see."""

import dash

from auth.principal import current_principal
from components.patient_page import clinical_page

dash.register_page(__name__, path="/", title="Overview · HealthDash")


def layout(**_query):
    """Clinical panels of the patient who is signed in (no review controls)."""
    return clinical_page(current_principal().patient_id, clinician=False)
