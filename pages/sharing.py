"""A patient's sharing settings: `/settings/sharing` (caregivers, clinicians, who has access)."""

import dash

from auth.principal import current_principal
from components.sharing import not_a_patient, sharing_page

dash.register_page(__name__, path="/settings/sharing", title="Sharing · HealthDash")


def layout(**_query):
    """The settings for the signed-in patient; the lists are filled by callbacks."""
    principal = current_principal()
    if principal.role != "patient" or principal.patient_id is None:
        return not_a_patient()
    return sharing_page()
