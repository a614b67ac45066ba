"""The clinician's triage list: every patient on their care team, most urgent first."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.triage import FILTERS, SORTS

dash.register_page(__name__, path="/patients", title="Patients · HealthDash")


def layout(**_query):
    """Search, sort, filters and the table; rows are filled by a callback."""
    return html.Div([
        html.H1("Patients"),
        html.Div([
            html.Div([
                html.Label("Search patients", htmlFor=ids.PATIENT_SEARCH),
                dcc.Input(id=ids.PATIENT_SEARCH, type="search", placeholder="Search by name",
                          debounce=True, className="form-control search"),
            ], className="me-3"),
            html.Div([
                html.Label("Sort by", htmlFor=ids.TRIAGE_SORT),
                dbc.Select(id=ids.TRIAGE_SORT, options=[
                    {"label": label, "value": value} for value, label in SORTS.items()
                ], value="urgency", className="form-select triage-sort"),
            ], className="me-3"),
            html.Fieldset([
                html.Legend("Show only", className="fs-6 mb-0"),
                dbc.Checklist(id=ids.TRIAGE_FILTER, options=[
                    {"label": label, "value": value} for value, label in FILTERS.items()
                ], value=[], inline=True),
            ]),
        ], className="toolbar triage-toolbar"),
        html.P(id=ids.TRIAGE_COUNT, className="muted", role="status"),
        html.Div(id=ids.PATIENT_TABLE),
        dbc.Pagination(id=ids.TRIAGE_PAGE, max_value=1, active_page=1, fully_expanded=False,
                       first_last=True, previous_next=True, className="mt-2"),
    ])
