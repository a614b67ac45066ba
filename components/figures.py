"""Plotly figures of one metric over time, built as plain dicts from repository `Series`.

Dicts rather than `go.Figure`: validation made a 2,000-point figure about six times slower
on the callback hot path (docs/ARCHITECTURE.md, "Performance notes"). Colours come from
the Okabe–Ito palette, which stays distinguishable with common colour-vision deficiencies,
and nothing is told by colour alone: bands carry labels and captions say what is shown.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from components.arrays import data_extent, local_dates, rolling_mean, typed
from data import catalog
from data.catalog import Metric, ReferenceRange
from data.queries import Resolution
from data.repository.reads import Series

Figure = dict[str, Any]

BLUE, SKY, ORANGE, PURPLE, BLACK = "#0072B2", "#56B4E9", "#E69F00", "#CC79A7", "#000000"
MUTED, GRID = "#555555", "#E6E6E6"
# Okabe–Ito green, yellow, orange and vermillion, light enough to sit behind the data.
SEVERITY_FILL = {
    "normal": "rgba(0, 158, 115, 0.12)", "caution": "rgba(240, 228, 66, 0.25)",
    "warning": "rgba(230, 159, 0, 0.20)", "danger": "rgba(213, 94, 0, 0.20)",
}
RANGE_FILL, BACKDROP = "rgba(86, 180, 233, 0.30)", "rgba(255, 255, 255, 0.7)"
RANGE_NAME = "Range (min–max)"
# Index of the resolution caption in layout.annotations, for Patch updates of its text.
RESOLUTION_ANNOTATION = 0

_LABELS: dict[str, str] = {"raw": "raw", "hour": "hourly", "day": "daily"}
_PERIOD_S: dict[str, int] = {"hour": 3600, "day": 86400}
_HOVER_FORMAT = {"raw": "%a %d %b %Y %H:%M", "hour": "%a %d %b %Y %H:%M", "day": "%a %d %b %Y"}
# Weight, blood pressure, resting heart rate: a reading or two a day, each one worth a dot.
_SPARSE_INTERVAL_S = 12 * 3600
_FEW_POINTS = 60
_NOTE_CHARS = 40
_CAPTION_CHARS = 72
_SUMMED_KINDS = ("cumulative", "category")


def resolution_label(resolution: Resolution) -> str:
    """The word the captions use for a resolution."""
    try:
        return _LABELS[resolution]
    except KeyError:
        raise ValueError(f"resolution must be raw, hour or day, not {resolution!r}") from None


def resolution_text(series: Series) -> str:
    """Caption text saying how coarse the points are, so nobody mistakes a mean for a reading."""
    n = len(series)
    text = f"Resolution: {resolution_label(series.resolution)} · {n:,} point{'' if n == 1 else 's'}"
    if series.rows_read > n:
        text += f" (downsampled from {series.rows_read:,})"
    return text


def display_unit(metric: Metric) -> str:
    """The unit as people read it: "8,234 steps", not "8,234 count"."""
    return metric.name.lower() if metric.canonical_unit == "count" else metric.canonical_unit


def axis_title(metric: Metric) -> str:
    """"Heart rate (bpm)"; a plain count needs no unit in brackets."""
    unit = metric.canonical_unit
    return metric.name if unit == "count" else f"{metric.name} ({unit})"


def empty_figure(message: str) -> Figure:
    """A blank chart that says why it is blank, instead of empty axes that look broken."""
    message_note = {
        "text": message, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
        "showarrow": False, "font": {"size": 14, "color": MUTED},
    }
    return {"data": [], "layout": {
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [message_note], "margin": {"l": 16, "r": 16, "t": 16, "b": 16},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
    }}


def base_layout(y_title: str, resolution: Resolution, uirevision: str | None) -> Figure:
    """Layout shared by the time charts; `uirevision` keeps zoom across Patch updates."""
    layout: Figure = {
        "xaxis": {"type": "date", "hoverformat": _HOVER_FORMAT[resolution], "gridcolor": GRID},
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID, "zeroline": False},
        "hovermode": "x unified",
        "margin": {"l": 60, "r": 16, "t": 56, "b": 40},
        "legend": {"orientation": "h", "x": 0, "y": -0.1, "yanchor": "top"},
        "paper_bgcolor": "white", "plot_bgcolor": "white", "shapes": [], "annotations": [],
    }
    if uirevision is not None:
        layout["uirevision"] = uirevision
    return layout


def caption(text: str, *, right: bool = False, hovertext: str = "") -> Figure:
    """Small text above the plot, at most two lines; the rest, and `hovertext`, on hover.

    The right caption sits above the left one's line, so a long citation never runs over
    the resolution caption, and it wraps rather than running off a narrow chart.
    """
    lines = textwrap.wrap(text, _CAPTION_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: _CAPTION_CHARS - 1] + "…"]
        hovertext = f"{text}\n{hovertext}".strip()
    note: Figure = {
        "text": "<br>".join(html.escape(line, quote=False) for line in lines),
        "xref": "paper", "yref": "paper", "x": 1 if right else 0, "y": 1,
        "xanchor": "right" if right else "left", "align": "right" if right else "left",
        "yanchor": "bottom", "yshift": 18 if right else 2, "showarrow": False,
        "font": {"size": 10 if right else 11, "color": MUTED},
    }
    if hovertext:
        note["hovertext"] = html.escape(hovertext, quote=False).replace("\n", "<br>")
    return note


def reference_shapes(
    reference: ReferenceRange, data_lo: float, data_hi: float, label_suffix: str = ""
) -> list[Figure]:
    """Labelled bands as full-width rects behind the data.

    Shapes count towards autorange, so an open-ended band needs a finite end: it reaches a
    tenth of the thresholds' span past the outermost threshold, or past the data if that
    lies further. Closed bands are drawn whole so the thresholds stay in view.
    """
    edges = [e for band in reference.bands for e in (band.low, band.high) if e is not None]
    if not edges:
        return []
    margin = 0.1 * (max(edges) - min(edges)) or 0.1 * abs(max(edges)) or 1.0
    bottom, top = min(min(edges) - margin, data_lo), max(max(edges) + margin, data_hi)
    return [
        {
            "type": "rect", "name": band.label, "layer": "below",
            "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
            "y0": bottom if band.low is None else band.low,
            "y1": top if band.high is None else band.high,
            "fillcolor": SEVERITY_FILL[band.severity], "line": {"width": 0},
            "label": {"text": band.label + label_suffix, "textposition": "middle right",
                      "font": {"size": 10, "color": MUTED}},
        }
        for band in reference.bands
    ]


def note_marks(notes: Sequence[tuple[int, str]]) -> tuple[list[Figure], list[Figure]]:
    """Dashed lines and short labels for user notes; escaped, as plotly reads tags in text."""
    shapes: list[Figure] = []
    annotations: list[Figure] = []
    for t, text in notes:
        x = local_dates(np.array([t]))[0]
        short = text if len(text) <= _NOTE_CHARS else text[: _NOTE_CHARS - 1] + "…"
        shapes.append({
            "type": "line", "xref": "x", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
            "line": {"color": MUTED, "width": 1, "dash": "dash"},
        })
        annotations.append({
            "text": html.escape(short, quote=False), "hovertext": html.escape(text, quote=False),
            "xref": "x", "x": x, "yref": "paper", "y": 1, "xanchor": "left", "yanchor": "top",
            "showarrow": False, "font": {"size": 10, "color": MUTED}, "bgcolor": BACKDROP,
        })
    return shapes, annotations


def has_values(series: Series) -> bool:
    """Whether there is anything to draw; all-NaN counts as empty."""
    return len(series) > 0 and bool(np.isfinite(series.value).any())


def _rolling_window(resolution: Resolution, rolling: int | None) -> tuple[int, int, str] | None:
    """(window, bucket, label) of the average line, for daily data only.

    Raw points are too uneven to average, and at hourly resolution the min-max band already
    shows the spread: a fourth 2,000-point trace would push the figure past 150 KB.
    """
    if not rolling or resolution != "day":
        return None
    return rolling * 86400, 86400, f"{rolling}-day average"


def _series_traces(series: Series, metric: Metric, rolling: int | None) -> list[Figure]:
    """Band (two traces), main trace, average: the order `patch_series` must keep."""
    common: Figure = {"x": local_dates(series.t_local)}
    if series.resolution in _PERIOD_S:
        # A daily mean belongs to the whole day: draw it mid-day, bars across the day.
        common |= {"xperiod": _PERIOD_S[series.resolution] * 1000, "xperiodalignment": "middle"}
    unit, fmt = display_unit(metric), f",.{metric.decimals}f"

    def hover(label: str) -> str:
        return f"{label}: %{{y:{fmt}}} {unit}<extra></extra>"

    traces: list[Figure] = []
    if series.low is not None and series.high is not None and metric.kind == "instant":
        band = {**common, "type": "scatter", "mode": "lines", "legendgroup": "range",
                "line": {"width": 0, "color": SKY}}
        traces.append({**band, "y": typed(series.low, "f4"), "name": "Min",
                       "showlegend": False, "hovertemplate": hover("min")})
        traces.append({**band, "y": typed(series.high, "f4"), "name": RANGE_NAME,
                       "fill": "tonexty", "fillcolor": RANGE_FILL, "hovertemplate": hover("max")})
    if metric.kind in _SUMMED_KINDS:
        main: Figure = {"type": "bar", "marker": {"color": BLUE}}
    else:
        sparse = metric.typical_interval_s >= _SPARSE_INTERVAL_S or len(series) <= _FEW_POINTS
        main = {"type": "scatter", "mode": "lines+markers" if sparse else "lines",
                "line": {"color": BLUE, "width": 1.5}, "marker": {"color": BLUE, "size": 5}}
    main |= {"y": typed(series.value, "f4"), "name": metric.name,
             "hovertemplate": hover(metric.name)}
    if metric.kind == "cumulative" and series.source and series.resolution != "raw":
        # which device's count won de-duplication for this bar
        main |= {"customdata": series.source, "hovertemplate": (
            f"{metric.name}: %{{y:{fmt}}} {unit} · counted from %{{customdata}}<extra></extra>")}
    traces.append({**common, **main})
    window = _rolling_window(series.resolution, rolling)
    if window is not None:
        average = rolling_mean(series.t_local, series.value, window[0], window[1])
        if np.isfinite(average).any():
            traces.append({**common, "type": "scatter", "mode": "lines", "name": window[2],
                           "y": typed(average, "f4"), "line": {"color": BLACK, "width": 2},
                           "opacity": 0.8, "hovertemplate": hover(window[2])})
    return traces


def _time_layout(
    y_title: str, lead: Series, reference: ReferenceRange | None, bands: list[Figure],
    notes: Sequence[tuple[int, str]], uirevision: str | None,
) -> Figure:
    """Layout of a time chart; the resolution caption comes first (RESOLUTION_ANNOTATION)."""
    layout = base_layout(y_title, lead.resolution, uirevision)
    layout["annotations"].append(caption(resolution_text(lead)))
    if reference is not None:
        layout["annotations"].append(
            caption(f"Reference: {reference.source}", right=True, hovertext=reference.note)
        )
    note_lines, note_labels = note_marks(notes)
    layout["shapes"] = bands + note_lines
    layout["annotations"] += note_labels
    return layout


def series_figure(
    series: Series, metric: Metric, *, rolling: int | None = 7, reference: bool = True,
    notes: Sequence[tuple[int, str]] = (), uirevision: str | None = None,
) -> Figure:
    """One metric over time: min–max band, values, rolling average, reference bands, notes."""
    if not has_values(series):
        return empty_figure("No readings in this range")
    shown = metric.reference if reference else None
    bands: list[Figure] = []
    if shown is not None:
        bands = reference_shapes(shown, *data_extent(series.value, series.low, series.high))
    layout = _time_layout(axis_title(metric), series, shown, bands, notes, uirevision)
    if metric.kind in _SUMMED_KINDS:
        layout["yaxis"]["rangemode"] = "tozero"
    return {"data": _series_traces(series, metric, rolling), "layout": layout}


def patch_series(series: Series, metric: Metric, rolling: int | None = 7) -> dict[str, object]:
    """What changes when only the data does: `figure["data"]` and the resolution caption.

    Send the whole `series_figure` instead when the series is empty: the empty state has
    a different layout that a Patch of the data cannot produce.
    """
    data = _series_traces(series, metric, rolling) if has_values(series) else []
    return {"data": data, "resolution_text": resolution_text(series)}


def bp_figure(
    systolic: Series, diastolic: Series, *, notes: Sequence[tuple[int, str]] = (),
    uirevision: str | None = None,
) -> Figure:
    """Systolic and diastolic on one axis, shaded by the systolic ACC/AHA categories.

    Only systolic bands are drawn: both sets on one axis would overlap and mislabel each
    other. They are sized to the systolic readings, and their labels say "systolic".
    """
    present = [s for s in (systolic, diastolic) if has_values(s)]
    if not present:
        return empty_figure("No blood pressure readings in this range")
    reference = catalog.get("bp_systolic").reference
    assert reference is not None  # the catalog pins the BP categories
    bands: list[Figure] = []
    if present[0] is systolic:
        bands = reference_shapes(reference, *data_extent(systolic.value), " (systolic)")
    layout = _time_layout("Blood pressure (mmHg)", present[0], reference, bands, notes, uirevision)
    data = []
    for series, name, colour, symbol in (
        (systolic, "Systolic", BLUE, "circle"), (diastolic, "Diastolic", PURPLE, "diamond")
    ):
        if has_values(series):
            data.append({
                "type": "scatter", "mode": "lines+markers", "name": name,
                "x": local_dates(series.t_local), "y": typed(series.value, "f4"),
                "line": {"color": colour, "width": 1.5},
                "marker": {"color": colour, "size": 6, "symbol": symbol},
                "hovertemplate": f"{name}: %{{y:.0f}} mmHg<extra></extra>",
            })
    return {"data": data, "layout": layout}
