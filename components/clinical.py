"""Pure builders for the clinical charts of a patient page: numpy arrays in, figure dicts out.

No I/O and no globals: the callbacks and the report compute the numbers (categories,
averages, baselines, percentiles) and these functions only draw them, so the page and the
PDF show the same values. Conventions are those of `components.figures`: plain dicts,
typed arrays, wall-clock date strings, Okabe–Ito colours with labels and marker shapes so
nothing is told by colour alone, an explicit empty state, and the time zone in a caption.

Trend charts are here; the glucose charts live in `components.clinical_glucose` and the
hypnogram and heatmap in `components.clinical_patterns`. All are importable from here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from components.arrays import local_dates, typed
from components.clinical_common import (
    GREEN,
    VERMILLION,
    YELLOW,
    Notes,
    date_layout,
    date_title,
    floats,
    has_finite,
    percent_label,
    plain_layout,
    recaption,
    threshold_line,
    tz_text,
)
from components.clinical_glucose import agp_figure, tir_figure
from components.clinical_patterns import heatmap_figure, hypnogram_figure
from components.figures import (
    BLACK,
    BLUE,
    ORANGE,
    PURPLE,
    RANGE_FILL,
    SKY,
    Figure,
    axis_title,
    bp_figure,
    caption,
    display_unit,
    empty_figure,
    series_figure,
)
from data import catalog
from data.queries import Resolution
from data.reference_ranges import (
    BP_CATEGORY_ORDER,
    BP_CRISIS,
    BP_DIASTOLIC,
    BP_ELEVATED,
    BP_NORMAL,
    BP_STAGE_1,
    BP_STAGE_2,
    BP_SYSTOLIC,
    SPO2,
)
from data.repository.reads import Series

__all__ = [
    "BASELINE_BAND_NAME", "BP_CATEGORY_COLOURS", "STEPS_CAPTION", "agp_figure",
    "baseline_figure", "bp_category_figure", "bp_trend_figure", "heart_rate_figure",
    "heatmap_figure", "hypnogram_figure", "spo2_nightly_figure", "steps_figure", "tir_figure",
    "weight_figure",
]

BASELINE_BAND_NAME = "Your usual range (previous 90 days, middle 50%)"
BASELINE_MEDIAN_NAME = "Your median (previous 90 days)"
STEPS_CAPTION = "Counted once per minute by source priority (see Data sources)"
# Okabe–Ito from green to vermillion as the category worsens; black for a crisis, which
# also keeps the five bars apart when printed in black and white.
BP_CATEGORY_COLOURS: Mapping[str, str] = {
    BP_NORMAL: GREEN, BP_ELEVATED: YELLOW, BP_STAGE_1: ORANGE, BP_STAGE_2: VERMILLION,
    BP_CRISIS: BLACK,
}
# The diastolic thresholds drawn as dotted lines over the systolic bands.
_DIASTOLIC_LINES = (BP_STAGE_1, BP_STAGE_2)
_DAY_MS = 86_400_000


def _series(
    code: str, t_local: Any, value: Any, resolution: Resolution, *, low: Any = None,
    high: Any = None, source: Sequence[str] | None = None,
) -> Series:
    """Arrays as a repository Series, to reuse the `components.figures` charts.

    Those charts read only `t_local`, so `t_utc` (unknown here) is given the same values.
    """
    t = np.asarray(t_local, dtype=np.int64)
    return Series(
        metric=code, unit=catalog.get(code).canonical_unit, resolution=resolution,
        t_utc=t, t_local=t, value=floats(value),
        low=None if low is None else floats(low), high=None if high is None else floats(high),
        source=None if source is None else list(source), rows_read=len(t),
    )


def _daily_x(day: Any) -> Figure:
    """A daily value belongs to the whole day: drawn mid-day, as the series charts do."""
    return {"x": local_dates(np.asarray(day, dtype=np.int64)), "xperiod": _DAY_MS,
            "xperiodalignment": "middle"}


def _name_in_text(metric: catalog.Metric) -> str:
    """"heart rate variability (SDNN)": lower-case the first letter only."""
    return metric.name[:1].lower() + metric.name[1:]


def _reference_caption(reference: catalog.ReferenceRange | None) -> list[Figure]:
    if reference is None:
        return []
    return [caption(f"Reference: {reference.source}", right=True, hovertext=reference.note)]


# --- blood pressure --------------------------------------------------------------------------


def bp_trend_figure(
    t_local: Any, systolic: Any, diastolic: Any, *, tz: str, notes: Notes = (),
    uirevision: str | None = None,
) -> Figure:
    """Each reading's two numbers over time on the 2017 ACC/AHA categories.

    Systolic categories are shaded bands labelled "(systolic)"; the diastolic thresholds
    80 and 90 mmHg are dotted purple lines labelled on the left, so the two scales never
    share a band. Systolic readings are blue circles, diastolic purple diamonds.
    """
    sys_values, dia_values = floats(systolic), floats(diastolic)
    if not has_finite(sys_values, dia_values):
        return empty_figure("No blood pressure readings in this range")
    figure = bp_figure(
        _series("bp_systolic", t_local, sys_values, "raw"),
        _series("bp_diastolic", t_local, dia_values, "raw"),
        notes=notes, uirevision=uirevision,
    )
    n = int((np.isfinite(sys_values) | np.isfinite(dia_values)).sum())
    recaption(figure, f"{tz_text(tz)} · {n:,} reading{'' if n == 1 else 's'}",
              date_title(tz, "raw"))
    for band in BP_DIASTOLIC.bands:
        if band.label in _DIASTOLIC_LINES and band.low is not None:
            figure["layout"]["shapes"].append(threshold_line(
                band.low, f"Diastolic {band.low:g}: {band.label}", PURPLE,
            ))
    return figure


def bp_category_figure(shares: Mapping[str, float], *, n: int) -> Figure:
    """Share of readings per ACC/AHA category, a bar per category with its percent on it.

    `shares` maps category labels (`BP_CATEGORY_ORDER`) to percent of the `n` readings;
    missing categories are 0 %. An unknown label is refused rather than silently dropped.
    """
    unknown = set(shares) - set(BP_CATEGORY_ORDER)
    if unknown:
        raise ValueError(f"unknown blood pressure categories: {sorted(unknown)}")
    values = np.array([float(shares.get(c, 0.0)) for c in BP_CATEGORY_ORDER])
    if n <= 0 or not (np.nan_to_num(values) > 0).any():
        return empty_figure("No blood pressure readings in this range")
    labels = [html.escape(percent_label(v), quote=False) for v in values]
    bar: Figure = {
        "type": "bar", "orientation": "h", "name": "Share of readings",
        "y": list(BP_CATEGORY_ORDER), "x": typed(values, "f4"), "text": labels,
        "textposition": "outside", "cliponaxis": False,
        "marker": {"color": [BP_CATEGORY_COLOURS[c] for c in BP_CATEGORY_ORDER],
                   "line": {"color": BLACK, "width": 0.5}},
        "hovertemplate": "%{y}: %{text} of readings<extra></extra>",
    }
    layout = plain_layout("Share of readings (%)", "ACC/AHA category")
    layout["xaxis"] |= {"range": [0, 115], "tickvals": [0, 25, 50, 75, 100],
                        "gridcolor": "#E6E6E6"}
    layout["yaxis"] |= {"autorange": "reversed", "gridcolor": "#FFFFFF"}
    layout["margin"]["l"] = 150
    layout["annotations"] = [
        caption(f"{n:,} reading{'' if n == 1 else 's'} · each takes the higher category "
                "of its two numbers"),
        *_reference_caption(BP_SYSTOLIC),
    ]
    return {"data": [bar], "layout": layout}


# --- weight and heart --------------------------------------------------------------------------


def weight_figure(
    day: Any, kg: Any, avg7: Any, *, tz: str, notes: Notes = (),
    uirevision: str | None = None,
) -> Figure:
    """Daily weights as points with the trailing 7-day average as a line."""
    weights, average = floats(kg), floats(avg7)
    if not has_finite(weights):
        return empty_figure("No weight readings in this range")
    metric = catalog.get("body_mass")
    fmt = f".{metric.decimals}f"
    x = _daily_x(day)
    data: list[Figure] = [{
        **x, "type": "scatter", "mode": "markers", "name": "Daily weight",
        "y": typed(weights, "f4"), "marker": {"color": BLUE, "size": 6, "symbol": "circle"},
        "hovertemplate": f"Weight: %{{y:{fmt}}} kg<extra></extra>",
    }]
    if has_finite(average):
        data.append({
            **x, "type": "scatter", "mode": "lines", "name": "7-day average",
            "y": typed(average, "f4"), "line": {"color": BLACK, "width": 2},
            "hovertemplate": f"7-day average: %{{y:{fmt}}} kg<extra></extra>",
        })
    layout = date_layout(axis_title(metric), tz, notes=notes, uirevision=uirevision)
    return {"data": data, "layout": layout}


def heart_rate_figure(
    day: Any, mean: Any, low: Any, high: Any, *, tz: str, notes: Notes = (),
    uirevision: str | None = None,
) -> Figure:
    """Daily mean heart rate inside a shaded band from the day's minimum to its maximum."""
    if not has_finite(mean):
        return empty_figure("No heart rate readings in this range")
    figure = series_figure(
        _series("heart_rate", day, mean, "day", low=low, high=high),
        catalog.get("heart_rate"), rolling=None, notes=notes, uirevision=uirevision,
    )
    return recaption(figure, f"{tz_text(tz)} · daily mean with the day's range (min–max)",
                     date_title(tz))


def baseline_figure(
    title_metric: str, day: Any, value: Any, median: Any, q25: Any, q75: Any, *, tz: str,
    notes: Notes = (), uirevision: str | None = None,
) -> Figure:
    """A personal metric (resting heart rate, HRV) against the person's own baseline band."""
    metric = catalog.get(title_metric)
    values = floats(value)
    if not has_finite(values):
        return empty_figure(f"No {_name_in_text(metric)} readings in this range")
    unit, fmt = display_unit(metric), f",.{metric.decimals}f"
    x = _daily_x(day)
    band: Figure = {**x, "type": "scatter", "mode": "lines", "legendgroup": "baseline",
                    "line": {"width": 0, "color": SKY}}
    data: list[Figure] = [
        {**band, "y": typed(floats(q25), "f4"), "name": "Usual range low", "showlegend": False,
         "hovertemplate": f"Usual range from %{{y:{fmt}}} {unit}<extra></extra>"},
        {**band, "y": typed(floats(q75), "f4"), "name": BASELINE_BAND_NAME, "fill": "tonexty",
         "fillcolor": RANGE_FILL,
         "hovertemplate": f"Usual range to %{{y:{fmt}}} {unit}<extra></extra>"},
        {**x, "type": "scatter", "mode": "lines", "name": BASELINE_MEDIAN_NAME,
         "y": typed(floats(median), "f4"), "line": {"color": BLACK, "width": 1.5, "dash": "dash"},
         "hovertemplate": f"Your median: %{{y:{fmt}}} {unit}<extra></extra>"},
        {**x, "type": "scatter", "mode": "lines+markers", "name": metric.name,
         "y": typed(values, "f4"), "line": {"color": BLUE, "width": 1.5},
         "marker": {"color": BLUE, "size": 6, "symbol": "circle"},
         "hovertemplate": f"{metric.name}: %{{y:{fmt}}} {unit}<extra></extra>"},
    ]
    layout = date_layout(axis_title(metric), tz, notes=notes, uirevision=uirevision)
    layout["annotations"] += _reference_caption(metric.reference)
    return {"data": data, "layout": layout}


# --- oxygen and activity -----------------------------------------------------------------------


def spo2_nightly_figure(
    night: Any, minimum: Any, mean: Any, *, tz: str, notes: Notes = (),
    uirevision: str | None = None,
) -> Figure:
    """Each night's lowest and mean SpO2 with the < 90 % "low" line of clinical practice."""
    lowest, average = floats(minimum), floats(mean)
    if not has_finite(lowest, average):
        return empty_figure("No SpO2 readings in this range")
    x = _daily_x(night)
    data: list[Figure] = [
        {**x, "type": "scatter", "mode": "lines+markers", "name": "Nightly mean",
         "y": typed(average, "f4"), "line": {"color": BLUE, "width": 1.5},
         "marker": {"color": BLUE, "size": 6, "symbol": "circle"},
         "hovertemplate": "Nightly mean: %{y:.0f}%<extra></extra>"},
        {**x, "type": "scatter", "mode": "lines+markers", "name": "Nightly minimum",
         "y": typed(lowest, "f4"), "line": {"color": ORANGE, "width": 1, "dash": "dot"},
         "marker": {"color": ORANGE, "size": 7, "symbol": "triangle-down"},
         "hovertemplate": "Nightly minimum: %{y:.0f}%<extra></extra>"},
    ]
    layout = date_layout("SpO2 (%)", tz, notes=notes, uirevision=uirevision)
    low = next(b for b in SPO2.bands if b.low is None)  # the "Low" band, open downwards
    assert low.high is not None
    layout["shapes"].insert(0, threshold_line(
        low.high, f"{low.label}: below {low.high:g}%", VERMILLION, dash="dash",
    ))
    layout["annotations"] += _reference_caption(SPO2)
    return {"data": data, "layout": layout}


def steps_figure(
    day: Any, steps: Any, source: Sequence[str], *, tz: str, notes: Notes = (),
    uirevision: str | None = None,
) -> Figure:
    """Daily step bars naming, on hover and in customdata, the device whose count won."""
    if len(source) != len(day):
        raise ValueError(f"{len(source)} sources for {len(day)} days")
    if not has_finite(steps):
        return empty_figure("No step counts in this range")
    figure = series_figure(
        _series("steps", day, steps, "day", source=source), catalog.get("steps"),
        rolling=None, notes=notes, uirevision=uirevision,
    )
    figure["layout"]["yaxis"]["title"]["text"] = "Steps per day"
    return recaption(figure, f"{tz_text(tz)} · {STEPS_CAPTION}", date_title(tz))
