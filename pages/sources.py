"""Data sources: upload an Apple Health export, follow the import, rank the devices."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from auth.principal import current_principal, repository
from components import ids
from components.imports import RANKED_METRICS
from components.layouts import no_access

dash.register_page(__name__, path="/sources", title="Data sources · HealthDash")



def layout(patient: str | None = None, **_query):
    """Upload form, import progress (reattached on return), history, source priorities."""
    principal = current_principal()
    patient_id = int(patient) if patient and patient.isdigit() else principal.patient_id
    if patient_id is None or not repository().can_see(principal, patient_id):
        return no_access()
    if not repository().can_change(principal, patient_id):
        # caregivers and break-glass admins read; the repository refuses their changes too
        return html.Div([
            dcc.Store(id=ids.SOURCES_PATIENT, data=patient_id),
            dcc.Store(id=ids.ACTIVE_JOB),
            dcc.Interval(id=ids.JOB_POLL, interval=1000, disabled=True),
            html.H1("Data sources"),
            html.P("You have read-only access: imports and the device ranking are managed "
                   "by the patient and their clinicians.", className="muted", role="note"),
            html.Section([
                html.H2("Import progress"),
                html.Div(id=ids.JOB_VIEW, children=html.P("No import running.",
                                                          className="muted")),
                html.Button("Cancel import", id=ids.JOB_CANCEL_IMPORT, disabled=True,
                            hidden=True),
            ], className="chart-card mt-4"),
            html.Section([html.H2("Recent imports"), html.Div(id=ids.JOB_HISTORY)],
                         className="chart-card mt-4"),
        ])
    return html.Div([
        dcc.Store(id=ids.SOURCES_PATIENT, data=patient_id),
        dcc.Store(id=ids.ACTIVE_JOB),
        dcc.Interval(id=ids.JOB_POLL, interval=1000, disabled=True),
        html.H1("Data sources"),
        html.Section([
            html.H2("Import an Apple Health export"),
            html.P(["On your iPhone: Health → your picture → Export All Health Data. Choose the ",
                    html.Code("export.zip"), " (any size) or the ", html.Code("export.xml"),
                    " inside it. Importing the same file twice adds nothing."],
                   className="muted"),
            html.Label("Export file", htmlFor=ids.UPLOAD_FILE),
            # Dash has no plain file input; assets/upload.js puts one here.
            html.Div(id=ids.UPLOAD_SLOT),
            html.Button("Upload and import", id=ids.UPLOAD_START, className="btn btn-primary",
                        **{"data-patient": str(patient_id)}),
            html.Progress(id=ids.UPLOAD_PROGRESS, value="0", max="1", className="job-progress"),
            html.P(id=ids.UPLOAD_STATUS, role="status"),
        ], className="chart-card"),
        html.Section([
            html.H2("Import progress"),
            html.Div(id=ids.JOB_VIEW, children=html.P("No import running.", className="muted")),
            html.Button("Cancel import", id=ids.JOB_CANCEL_IMPORT,
                        className="btn btn-secondary", disabled=True),
        ], className="chart-card mt-4"),
        html.Section([html.H2("Recent imports"), html.Div(id=ids.JOB_HISTORY)],
                     className="chart-card mt-4"),
        html.Section([
            html.H2("Which device counts"),
            html.P("When two devices count the same minutes, the one you trust most wins; "
                   "the others keep their order behind it.", className="muted"),
            html.Div([
                html.Label([
                    f"{label}: counts first",
                    dbc.Select(id={"type": "priority", "metric": code},
                               className="form-select"),
                ], className="priority-row") for code, label in RANKED_METRICS
            ]),
            html.Button("Save priorities", id=ids.PRIORITY_SAVE, className="btn btn-primary"),
            html.Span(id=ids.PRIORITY_STATUS, role="status", className="ms-2"),
        ], className="chart-card mt-4"),
    ])
