"""Patient header and KPI cards, shared by the patient's own page and the clinician's."""

from __future__ import annotations

from dash import Dash, Input, Output, html

from auth.principal import current_principal, repository
from components import ids
from components.cards import kpi_card, kpi_row
from components.layouts import KPI_METRICS
from data import catalog

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
        years = patient.age()
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
