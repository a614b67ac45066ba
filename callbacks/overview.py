"""Overview page: patient header, KPI cards, one trend chart per metric."""

from __future__ import annotations

from dash import MATCH, Dash, Input, Output, State, html

from auth.principal import current_principal, repository
from callbacks.common import DAY, age, window
from components import ids
from components.cards import kpi_card, kpi_row
from components.figures import bp_figure, series_figure
from components.layouts import KPI_METRICS
from components.sleep import sleep_figure
from data import catalog
from data.queries import SeriesQuery

TREND_POINTS = 600


def register(app: Dash) -> None:
    """Bind the overview callbacks."""

    @app.callback(
        Output(ids.PATIENT_HEADER, "children"),
        Output(ids.KPI_ROW, "children"),
        Input(ids.PATIENT_STORE, "data"),
    )
    def header(patient_id: int):
        principal = current_principal()
        repo = repository()
        patient = repo.patient(principal, patient_id)
        years = age(patient.birth_date)
        title = html.Span([
            patient.name,
            html.Small(f" · {years} y" if years is not None else "", className="muted"),
            html.Small(f" · {patient.timezone}", className="muted"),
        ])
        cards = [
            kpi_card(summary, catalog.get(summary.metric))
            for summary in repo.summaries(principal, patient_id, list(KPI_METRICS))
        ]
        return title, kpi_row(cards)

    @app.callback(
        Output({"type": "trend-graph", "metric": MATCH}, "figure"),
        Input({"type": "trend-graph", "metric": MATCH}, "id"),
        State(ids.PATIENT_STORE, "data"),
    )
    def trend(graph_id: dict, patient_id: int):
        principal = current_principal()
        repo = repository()
        code = graph_id["metric"]
        start, end = window("90d")
        if code == "sleep_stage":
            nights = repo.sleep_nights(principal, patient_id, start - DAY, end)
            return sleep_figure(nights.nights.tolist(), nights.minutes)
        if code == "bp_systolic":
            systolic, diastolic = (
                repo.series(principal, SeriesQuery(patient_id, m, start, end, TREND_POINTS))
                for m in ("bp_systolic", "bp_diastolic")
            )
            return bp_figure(systolic, diastolic)
        result = repo.series(principal, SeriesQuery(patient_id, code, start, end, TREND_POINTS,
                                                     resolution="day"))
        return series_figure(result, catalog.get(code), uirevision=code)
