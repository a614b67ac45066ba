"""The start page: a patient's own clinical panels; a caregiver's list of their patients."""

import dash

from auth.principal import current_principal, repository
from components.patient_page import clinical_page
from components.sharing import caregiver_home

dash.register_page(__name__, path="/", title="Overview · HealthDash")


def layout(**_query):
    """Clinical panels of the patient who is signed in (no review controls), or for a
    caregiver the people who shared their data with them."""
    principal = current_principal()
    if principal.role == "caregiver":
        return caregiver_home(repository().list_patients(principal))
    return clinical_page(principal.patient_id, clinician=False)
