"""The signed-in patient's own overview (clinicians are sent to their patient list)."""

import dash

from auth.principal import current_principal
from components.layouts import overview

dash.register_page(__name__, path="/", title="Overview · HealthDash")


def layout(**_query):
    """Overview of the patient who is signed in."""
    return overview(current_principal().patient_id)
