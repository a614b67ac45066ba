"""The clinical patient page: one date range for every panel, notes, review and report.

Clinicians see it at /patients/<id>; patients see the same panels on their own overview
(without review controls). Callbacks in `callbacks.clinical` fill every chart.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from components import ids
from components.layouts import GRAPH_CONFIG, job_panel
from data import catalog
from data.panels import HEATMAP_METRICS

PANEL_RANGES = (("30 days", "30d"), ("90 days", "90d"), ("6 months", "180d"),
                ("1 year", "1y"), ("Custom", "custom"))
DEFAULT_RANGE = "90d"


def _graph(name: str, height: int = 300, label: str = "") -> html.Div:
    return html.Div(dcc.Loading(dcc.Graph(
        id=ids.clin_graph(name), config=GRAPH_CONFIG, style={"height": f"{height}px"},
        className="clinical-graph",
    )), role="figure", **({"aria-label": label} if label else {}))


def _panel(title: str, panel: str, *children, section_id: str | None = None) -> html.Section:
    heading = f"h-{panel}"
    return html.Section([
        html.H2(title, id=heading),
        html.Dl(id=ids.clin_stats(panel), className="clinical-stats"),
        *children,
    ], className="chart-card clinical-panel", id=section_id or f"panel-{panel}",
        **{"aria-labelledby": heading})


def toolbar() -> html.Div:
    """The date range shared by every panel."""
    return html.Div([
        html.Span("Date range", id="clin-range-label", className="me-2 fw-semibold"),
        dbc.RadioItems(id=ids.CLIN_RANGE, options=[
            {"label": label, "value": value} for label, value in PANEL_RANGES
        ], value=DEFAULT_RANGE, inline=True, className="range-picker",
            input_class_name="me-1"),
        dcc.DatePickerRange(id=ids.CLIN_CUSTOM, className="ms-3",
                            start_date_placeholder_text="From", end_date_placeholder_text="To"),
        html.Span(id=ids.CLIN_RANGE_TEXT, className="muted ms-3", role="status"),
    ], className="toolbar", role="group", **{"aria-labelledby": "clin-range-label"})


def review_bar() -> html.Div:
    """Last review, mark reviewed, and the PDF report job."""
    return html.Div([
        html.Span(id=ids.CLIN_REVIEW_TEXT, className="me-3", role="status"),
        html.Button("Mark reviewed", id=ids.CLIN_REVIEW_BUTTON, className="btn btn-primary"),
        dcc.Store(id=ids.REPORT_TOKEN),
        html.Button("Create PDF report", id=ids.REPORT_START,
                    className="btn btn-outline-primary ms-3"),
        html.Button("Cancel", id=ids.REPORT_CANCEL, className="btn btn-secondary ms-2",
                    disabled=True),
        html.Progress(id=ids.REPORT_PROGRESS, value="0", max="100", className="job-progress",
                      **{"aria-label": "Report progress"}),
        html.Span(id=ids.REPORT_STATUS, role="status", className="ms-2"),
    ], className="review-bar")


def notes_panel(can_write: bool = True) -> html.Section:
    """Notes on the timeline (markers on every chart) and, for those who may write, a form."""
    return html.Section([
        html.H2("Notes", id="h-notes"),
        html.Ul(id=ids.CLIN_NOTE_LIST, className="note-list"),
        html.Div([
            html.Label("When (patient's local time)", htmlFor=ids.CLIN_NOTE_WHEN),
            dcc.Input(id=ids.CLIN_NOTE_WHEN, type="datetime-local", className="form-control"),
            html.Label("Note", htmlFor=ids.CLIN_NOTE_TEXT, className="mt-2"),
            dcc.Input(id=ids.CLIN_NOTE_TEXT, type="text", maxLength=500,
                      placeholder="e.g. started amlodipine 5 mg", className="form-control"),
            html.Button("Add note", id=ids.CLIN_NOTE_ADD, className="btn btn-primary mt-2"),
            html.Span(id=ids.CLIN_NOTE_STATUS, role="status", className="ms-2"),
        ], className="note-form") if can_write else None,
    ], className="chart-card clinical-panel", id="panel-notes",
        **{"aria-labelledby": "h-notes"})


def clinical_page(patient_id: int | None, *, clinician: bool, can_write: bool = True,
                  notice: Component | None = None) -> html.Div:
    """Header, KPI cards, the range, and every clinical panel of one patient.

    `clinician` adds review, report and maintenance controls; `can_write` False (caregivers,
    break-glass admins: `Repository.can_change`) leaves out every control that changes
    data, so the page is read-only. `notice` is shown above the panels.
    """
    clinician = clinician and can_write
    heat_options = [{"label": catalog.get(m).name, "value": m} for m in HEATMAP_METRICS]
    col = {"lg": 6, "xs": 12}
    return html.Div([
        dcc.Store(id=ids.PATIENT_STORE, data=patient_id),
        dcc.Store(id=ids.CLIN_NOTES_VERSION, data=0),
        html.H1(id=ids.PATIENT_HEADER, children="Patient"),
        notice,
        review_bar() if clinician else None,
        toolbar(),
        html.Div(id=ids.KPI_ROW, className="kpi-row"),
        dbc.Row([
            dbc.Col(_panel("Blood pressure", "bp", _graph("bp", 320, "Blood pressure readings"),
                           _graph("bp-categories", 150, "Share of readings per category")),
                    **col),
            dbc.Col(_panel("Weight", "weight", _graph("weight", 300, "Weight")), **col),
            dbc.Col(_panel("Heart", "heart", _graph("heart-rate", 260, "Daily heart rate"),
                           _graph("resting", 240, "Resting heart rate"),
                           _graph("hrv", 240, "Heart rate variability")), **col),
            dbc.Col(_panel("Sleep", "sleep", _graph("sleep", 260, "Sleep stages per night"),
                           html.Label("Night", htmlFor=ids.CLIN_NIGHT, className="mt-2"),
                           dbc.Select(id=ids.CLIN_NIGHT, className="form-select night-picker"),
                           _graph("hypnogram", 240, "Hypnogram")), **col),
            dbc.Col(_panel("Activity", "steps", _graph("steps", 280, "Daily steps")), **col),
            dbc.Col(_panel("Blood oxygen (SpO2)", "spo2", _graph("spo2", 280, "Nightly SpO2")),
                    **col),
            dbc.Col(_panel("Glucose", "glucose", _graph("agp", 320, "Ambulatory glucose profile"),
                           _graph("tir", 320, "Time in ranges"),
                           section_id=ids.CLIN_GLUCOSE_SECTION), lg=12, xs=12),
            dbc.Col(_panel("Weekly pattern", "heatmap",
                           html.Label("Metric", htmlFor=ids.CLIN_HEATMAP_METRIC),
                           dbc.Select(id=ids.CLIN_HEATMAP_METRIC, options=heat_options,
                                      value="heart_rate", className="form-select"),
                           _graph("heatmap", 300, "Weekday by hour pattern")), **col),
            dbc.Col(notes_panel(can_write), **col),
        ], className="g-3"),
        job_panel() if clinician else None,
    ])
