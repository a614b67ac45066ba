"""The clinician's patient list (only patients on their care team)."""

import dash
from dash import dcc, html

from components import ids

dash.register_page(__name__, path="/patients", title="Patients · HealthDash")


def layout(**_query):
    """Search box and table; rows are filled by a callback."""
    return html.Div([
        html.H1("Patients"),
        html.Label("Search patients", htmlFor=ids.PATIENT_SEARCH, className="muted"),
        dcc.Input(id=ids.PATIENT_SEARCH, type="search", placeholder="Search by name",
                  debounce=True, className="form-control search"),
        html.Div(id=ids.PATIENT_TABLE),
    ])
