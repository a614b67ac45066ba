"""Page bodies shared by several routes (a patient's overview, the metric explorer)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids

KPI_METRICS = (
    "resting_heart_rate", "hrv_sdnn", "steps", "sleep_stage", "body_mass", "bp_systolic",
    "bp_diastolic", "spo2",
)
RANGES = (("24 h", "1d"), ("7 d", "7d"), ("30 d", "30d"), ("90 d", "90d"), ("1 y", "1y"),
          ("All", "all"), ("Custom", "custom"))
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def job_panel() -> html.Section:
    """Maintenance: rebuild this patient's rollups in the background, with progress."""
    return html.Section([
        html.H2("Maintenance"),
        html.P("Rebuild hourly and daily summaries from the raw readings.", className="muted"),
        dcc.Store(id=ids.JOB_TOKEN),
        html.Button("Recompute summaries", id=ids.JOB_START, className="btn btn-primary"),
        html.Button("Cancel", id=ids.JOB_CANCEL, className="btn btn-secondary ms-2",
                    disabled=True),
        html.Progress(id=ids.JOB_PROGRESS, value="0", max="100", className="job-progress"),
        html.Span(id=ids.JOB_STATUS, role="status", className="ms-2"),
    ], className="chart-card mt-4")


def explorer(metric: str, patient_id: int | None) -> html.Div:
    """One metric in depth: range picker, rolling average, zoom that fetches finer data."""
    return html.Div([
        dcc.Store(id=ids.EXPLORER_PATIENT, data=patient_id),
        dcc.Store(id=ids.EXPLORER_METRIC, data=metric),
        html.H1(id=ids.EXPLORER_TITLE, children=metric),
        html.Div([
            dbc.RadioItems(id=ids.EXPLORER_RANGE, options=[
                {"label": label, "value": value} for label, value in RANGES
            ], value="30d", inline=True, className="range-picker"),
            dcc.DatePickerRange(id=ids.EXPLORER_CUSTOM, className="ms-3"),
            dbc.Checklist(id=ids.EXPLORER_ROLLING, options=[
                {"label": "Rolling average", "value": "on"}
            ], value=["on"], switch=True, inline=True, className="ms-3"),
        ], className="toolbar"),
        html.Section(dcc.Graph(id=ids.EXPLORER_GRAPH, config=GRAPH_CONFIG,
                               style={"height": "520px"}), className="chart-card"),
        html.P(id=ids.EXPLORER_STATUS, className="muted", role="status"),
    ])


def no_access() -> html.Div:
    """What someone sees on a patient they may not see: no name, no data, no hint."""
    return html.Div([
        html.H1("No access"),
        html.P("You do not have access to this patient's data, or the patient does not exist.",
               className="alert", role="alert"),
        html.A("Back to the start", href="/"),
    ], id="no-access")
