"""KPI cards: latest value, 7-day average and its change against the previous 30 days.

A change is shown with a sign, an arrow and the words of its direction for screen
readers, never by colour alone; and in a neutral colour, because whether "up" is good
depends on the metric (more steps, yes; higher resting heart rate, no).
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.figures import display_unit
from data.catalog import Metric
from data.repository.reads import Summary

_NO_VALUE = "—"


def _is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _duration(minutes: float) -> str:
    """Sleep reads as "7 h 12 min"; 432 min makes people do arithmetic."""
    hours, rest = divmod(round(abs(minutes)), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def format_value(value: float | None, metric: Metric) -> str:
    """`value` in the metric's unit as a card shows it: "62 bpm", "8,234 steps", "97%"."""
    if value is None or not math.isfinite(value):
        return _NO_VALUE
    if metric.canonical_unit == "min":
        return ("-" if round(value) < 0 else "") + _duration(value)
    # Adding 0.0 turns the -0.0 that rounding a small negative gives into 0.0.
    number = f"{round(value, metric.decimals) + 0.0:,.{metric.decimals}f}"
    unit = display_unit(metric)
    return f"{number}{'' if unit == '%' else ' '}{unit}"


def _change_line(summary: Summary, metric: Metric) -> html.P:
    """"vs previous 30 days: ▲ +1.2 bpm (+2.0%)", or why there is no comparison."""
    label = "vs previous 30 days: "
    change = summary.change
    if change is None:
        return html.P(label + "not enough data", className="kpi-change text-muted mb-0")
    magnitude = format_value(abs(change), metric)
    digits = 0 if metric.canonical_unit == "min" else metric.decimals
    if round(abs(change), digits) == 0:
        return html.P(label + "no change", className="kpi-change mb-0")
    up = change > 0
    sign = "+" if up else "-"
    text = f" {sign}{magnitude}"
    assert summary.avg_prev_30d is not None  # a change implies both averages
    if summary.avg_prev_30d != 0:
        text += f" ({sign}{abs(change / summary.avg_prev_30d) * 100:.1f}%)"
    return html.P(
        [
            label,
            html.Span("▲" if up else "▼", className="kpi-arrow", **{"aria-hidden": "true"}),
            html.Span(" up" if up else " down", className="visually-hidden"),
            text,
        ],
        className=f"kpi-change kpi-change-{'up' if up else 'down'} mb-0",
    )


def kpi_card(summary: Summary, metric: Metric) -> dbc.Card:
    """One metric's headline numbers; a clear "No data" state when nothing was recorded."""
    if summary.metric != metric.code:
        raise ValueError(f"summary is for {summary.metric!r} but the metric is {metric.code!r}")
    title = html.H3(metric.name, className="kpi-title h6 text-muted")
    body: list[Any]
    if not _is_number(summary.latest):
        body = [title, html.P("No data", className="kpi-value kpi-empty fs-4 mb-0")]
    else:
        body = [
            title,
            html.P(format_value(summary.latest, metric), className="kpi-value fs-3 mb-1"),
            html.P(
                ["7-day avg: ", format_value(summary.avg_7d, metric)],
                className="kpi-avg mb-1",
            ),
            _change_line(summary, metric),
        ]
    return dbc.Card(
        dbc.CardBody(body), id={"type": "kpi-card", "metric": summary.metric}, className="kpi-card"
    )


def kpi_row(cards: list[dbc.Card]) -> dbc.Row:
    """Cards one per line on phones, two on tablets, up to four on wide screens."""
    return dbc.Row(
        [dbc.Col(card, xs=12, sm=6, lg=4, xl=3, className="kpi-col") for card in cards],
        className="g-3 kpi-row",
    )
