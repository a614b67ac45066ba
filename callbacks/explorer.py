"""Metric explorer: range picker, rolling average, zoom that fetches finer data (Patch)."""

from __future__ import annotations

from dash import Dash, Input, Output, Patch, State, ctx, no_update

from auth.principal import current_principal, repository
from callbacks.common import DAY, local_text_to_utc, window
from components import ids
from components.figures import empty_figure, patch_series, resolution_label, series_figure
from data import catalog
from data.queries import SeriesQuery
from data.timeparse import parse_instant
from settings import Settings


def register(app: Dash, settings: Settings) -> None:
    """Bind the explorer callbacks."""
    max_points = settings.max_points

    @app.callback(
        Output(ids.EXPLORER_GRAPH, "figure"),
        Output(ids.EXPLORER_TITLE, "children"),
        Output(ids.EXPLORER_STATUS, "children"),
        Input(ids.EXPLORER_RANGE, "value"),
        Input(ids.EXPLORER_CUSTOM, "start_date"),
        Input(ids.EXPLORER_CUSTOM, "end_date"),
        Input(ids.EXPLORER_ROLLING, "value"),
        State(ids.EXPLORER_METRIC, "data"),
        State(ids.EXPLORER_PATIENT, "data"),
    )
    def draw(range_key, custom_start, custom_end, rolling, code, patient_id):
        principal = current_principal()
        repo = repository()
        try:
            metric = catalog.get(code)
        except ValueError as exc:
            return empty_figure(str(exc)), "Unknown metric", ""
        patient = repo.patient(principal, patient_id)
        if range_key == "custom":
            if not (custom_start and custom_end):
                return no_update, no_update, "Pick a start and an end date."
            start = parse_instant(custom_start, patient.timezone)
            end = parse_instant(custom_end, patient.timezone) + DAY
        else:
            start, end = window(range_key)
        result = repo.series(principal, SeriesQuery(patient_id, code, start, end, max_points))
        figure = series_figure(result, metric, rolling=7 if rolling else None,
                               uirevision=f"{code}:{range_key}")
        title = f"{metric.name} · {patient.name}"
        return figure, title, _status(result)

    @app.callback(
        Output(ids.EXPLORER_GRAPH, "figure", allow_duplicate=True),
        Output(ids.EXPLORER_STATUS, "children", allow_duplicate=True),
        Input(ids.EXPLORER_GRAPH, "relayoutData"),
        State(ids.EXPLORER_RANGE, "value"),
        State(ids.EXPLORER_ROLLING, "value"),
        State(ids.EXPLORER_METRIC, "data"),
        State(ids.EXPLORER_PATIENT, "data"),
        prevent_initial_call=True,
    )
    def zoom(relayout, range_key, rolling, code, patient_id):
        """Dragging a range asks for just that range, at the finest resolution that fits."""
        if not relayout or ctx.triggered_id != ids.EXPLORER_GRAPH:
            return no_update, no_update
        principal = current_principal()
        repo = repository()
        patient = repo.patient(principal, patient_id)
        if "xaxis.range[0]" in relayout:
            start = local_text_to_utc(relayout["xaxis.range[0]"], patient.timezone)
            end = local_text_to_utc(relayout["xaxis.range[1]"], patient.timezone)
        elif relayout.get("xaxis.autorange"):
            start, end = window(range_key if range_key != "custom" else "all")
        else:
            return no_update, no_update
        metric = catalog.get(code)
        result = repo.series(principal, SeriesQuery(patient_id, code, start, end, max_points))
        parts = patch_series(result, metric, rolling=7 if rolling else None)
        patched = Patch()
        patched["data"] = parts["data"]
        patched["layout"]["annotations"][0]["text"] = parts["resolution_text"]
        return patched, _status(result)


def _status(result) -> str:
    return (
        f"{len(result):,} points shown at {resolution_label(result.resolution)} resolution, "
        f"from {result.rows_read:,} rows."
    )
