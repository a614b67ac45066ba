"""Glucose charts after the AGP report: the ambulatory glucose profile and time in range.

Targets and thresholds come from `data.reference_ranges.GLUCOSE` (International Consensus
on Time in Range, 2019), so the chart and the statistics cite one source.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np

from components.arrays import local_dates, typed
from components.clinical_common import (
    GREEN,
    VERMILLION,
    YELLOW,
    floats,
    has_finite,
    percent_label,
    plain_layout,
    threshold_line,
    title_x,
    tz_text,
)
from components.figures import (
    BLUE,
    MUTED,
    ORANGE,
    PURPLE,
    SKY,
    Figure,
    base_layout,
    caption,
    empty_figure,
)
from data.reference_ranges import GLUCOSE, ReferenceBand

# A fixed wall-clock day (2000-01-01) that carries the time of day on a date axis, so the
# hover reads "14:15"; the date itself is never shown.
_DAY_ZERO = 946_684_800
_DAY_S = 86_400
AGP_TICK_HOURS = 3
AGP_OUTER_FILL, AGP_INNER_FILL = "rgba(86, 180, 233, 0.25)", "rgba(0, 114, 178, 0.40)"
TARGET_FILL = "rgba(0, 158, 115, 0.08)"
_UNIT = "mg/dL"
_NO_GLUCOSE = "No glucose readings in this range"
_MESSAGE_CHARS = 80

# Keys of the time-in-range shares, bottom of the bar to top, one per GLUCOSE band.
TIR_KEYS: tuple[str, ...] = ("very_low", "low", "in_range", "high", "very_high")
TIR_NAMES: Mapping[str, str] = {
    "very_low": "Very low", "low": "Low", "in_range": "In range", "high": "High",
    "very_high": "Very high",
}
# Okabe–Ito: warm for high, vermillion and reddish purple for low, green in range.
TIR_COLOURS: Mapping[str, str] = {
    "very_low": VERMILLION, "low": PURPLE, "in_range": GREEN, "high": YELLOW,
    "very_high": ORANGE,
}
TIR_TARGETS = (
    "Targets (2019 international consensus): in range >70%; below 70 <4% (below 54 <1%); "
    "above 180 <25% (above 250 <5%)"
)
_LABEL_GAP = 9.0  # percent of the bar's height between two labels, so they never overlap


def _time_of_day(minutes: Any) -> list[str]:
    return local_dates(_DAY_ZERO + np.asarray(minutes, dtype=np.int64) * 60)


def _target_band() -> ReferenceBand:
    return next(b for b in GLUCOSE.bands if b.severity == "normal")


def agp_figure(
    minute: Any, p5: Any, p25: Any, p50: Any, p75: Any, p95: Any, *, representative: bool,
    message: str, tz: str, uirevision: str | None = None,
) -> Figure:
    """Glucose percentiles over a 24-hour day: 5–95 band light, 25–75 darker, median line.

    `minute` is each bin's minute of the day (0–1439). The target range is a light band
    between dashed lines at its limits. When the data are too thin to be representative,
    `message` is written in a box across the top of the plot; otherwise it joins the caption.
    """
    if not has_finite(p50):
        return empty_figure(_NO_GLUCOSE)
    x = _time_of_day(minute)

    def line(values: Any, name: str, hover: str, **style: Any) -> Figure:
        return {"type": "scatter", "mode": "lines", "x": x, "y": typed(floats(values), "f4"),
                "name": name, "hovertemplate": f"{hover}: %{{y:.0f}} {_UNIT}<extra></extra>",
                **style}

    edge = {"line": {"width": 0, "color": SKY}, "showlegend": False}
    data = [
        line(p5, "5th percentile", "5th percentile", **edge),
        line(p95, "5th–95th percentile", "95th percentile", fill="tonexty",
             fillcolor=AGP_OUTER_FILL, line={"width": 0, "color": SKY}),
        line(p25, "25th percentile", "25th percentile", **edge),
        line(p75, "25th–75th percentile", "75th percentile", fill="tonexty",
             fillcolor=AGP_INNER_FILL, line={"width": 0, "color": BLUE}),
        line(p50, "Median", "Median", line={"width": 2.5, "color": BLUE}),
    ]
    layout = title_x(base_layout(f"Glucose ({_UNIT})", "raw", uirevision),
                     f"Time of day (hh:mm, {tz})")
    ticks = np.arange(0, 24 + AGP_TICK_HOURS, AGP_TICK_HOURS)
    layout["xaxis"] |= {
        "hoverformat": "%H:%M",
        "tickmode": "array", "tickvals": _time_of_day(ticks * 60),
        "ticktext": [f"{h:02d}:00" for h in ticks],
        "range": _time_of_day([0, 24 * 60]),
    }
    target = _target_band()
    assert target.low is not None and target.high is not None
    layout["shapes"] = [
        {"type": "rect", "name": target.label, "layer": "below", "xref": "paper", "x0": 0,
         "x1": 1, "yref": "y", "y0": target.low, "y1": target.high, "fillcolor": TARGET_FILL,
         "line": {"width": 0}},
        threshold_line(target.low, f"{target.low:g} {_UNIT}", GREEN, dash="dash",
                       position="end"),
        threshold_line(target.high, f"{target.label} {target.low:g}–{target.high:g} {_UNIT}",
                       GREEN, dash="dash", position="end"),
    ]
    detail = "" if not representative or not message else f" · {message}"
    layout["annotations"] = [
        caption(f"{tz_text(tz)} · readings folded onto one day{detail}"),
        caption(f"Target range: {GLUCOSE.source}", right=True, hovertext=GLUCOSE.note),
    ]
    if not representative:
        lines = textwrap.wrap(message, _MESSAGE_CHARS) or [""]
        layout["annotations"].append({
            "name": "not representative", "text": "<br>".join(
                html.escape(line, quote=False) for line in lines),
            "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.98, "xanchor": "center",
            "yanchor": "top", "showarrow": False, "align": "center",
            "font": {"size": 12, "color": "#222222"}, "bgcolor": "rgba(240, 228, 66, 0.45)",
            "bordercolor": MUTED, "borderwidth": 1, "borderpad": 4,
        })
    return {"data": data, "layout": layout}


def _range_text(band: ReferenceBand) -> str:
    """A band as the consensus writes it, in whole mg/dL: "<54", "54–69", "181–250", ">250"."""
    if band.low is None:
        return f"<{band.high:g}" if not band.high_inclusive else f"≤{band.high:g}"
    if band.high is None:
        return f">{band.low:g}" if not band.low_inclusive else f"≥{band.low:g}"
    low = band.low if band.low_inclusive else band.low + 1
    high = band.high if band.high_inclusive else band.high - 1
    return f"{low:g}–{high:g}"


def _spread(mids: np.ndarray, gap: float, top: float = 100.0) -> np.ndarray:
    """Label heights near `mids` (ascending) but at least `gap` apart, within [0, top]."""
    pos = np.clip(mids.astype(np.float64), gap / 2, top - gap / 2)
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    pos[-1] = min(pos[-1], top - gap / 2)
    for i in range(len(pos) - 2, -1, -1):
        pos[i] = min(pos[i], pos[i + 1] - gap)
    return pos


def tir_figure(shares: Mapping[str, float], *, n: int) -> Figure:
    """Time in ranges as one stacked bar, very high on top, each segment labelled.

    `shares` are percent of the `n` readings per range (keys in `TIR_KEYS`; missing ones
    are 0 %). Labels sit beside the bar with a leader line to their segment and are spread
    apart, so a 1 % segment is as readable as a 70 % one, as on the AGP report.
    """
    unknown = set(shares) - set(TIR_KEYS)
    if unknown:
        raise ValueError(f"unknown time-in-range keys: {sorted(unknown)}")
    values = np.nan_to_num(np.array([float(shares.get(k, 0.0)) for k in TIR_KEYS]))
    if n <= 0 or not (values > 0).any():
        return empty_figure(_NO_GLUCOSE)
    bands = dict(zip(TIR_KEYS, GLUCOSE.bands, strict=True))
    top = np.cumsum(values)
    mids = top - values / 2
    heights = _spread(mids, _LABEL_GAP, max(100.0, float(top[-1])))
    data: list[Figure] = []
    annotations: list[Figure] = []
    for key, value, mid, height in zip(TIR_KEYS, values, mids, heights, strict=True):
        label = f"{TIR_NAMES[key]} {_range_text(bands[key])}: {percent_label(value)}"
        data.append({
            "type": "bar", "name": html.escape(f"{label} {_UNIT}", quote=False),
            "x": [0], "y": typed(np.array([value]), "f4"), "width": 0.5,
            "marker": {"color": TIR_COLOURS[key], "line": {"color": "#FFFFFF", "width": 1}},
            "hovertemplate": f"{html.escape(label, quote=False)} of readings"
                             f" ({_UNIT})<extra></extra>",
        })
        annotations.append({
            "name": key, "text": html.escape(label, quote=False), "x": 0.25, "y": float(mid),
            "xref": "x", "yref": "y", "ax": 0.45, "ay": float(height), "axref": "x",
            "ayref": "y", "showarrow": True, "arrowhead": 0, "arrowwidth": 1,
            "arrowcolor": MUTED, "xanchor": "left", "font": {"size": 12, "color": "#222222"},
        })
    layout = plain_layout(f"{n:,} glucose reading{'' if n == 1 else 's'}, ranges in {_UNIT}",
                          "Time in range (% of readings)")
    layout["barmode"] = "stack"
    layout["xaxis"] |= {"range": [-0.4, 2.4], "showticklabels": False, "fixedrange": True}
    layout["yaxis"] |= {"range": [0, max(100.0, float(top[-1]))], "fixedrange": True}
    layout["annotations"] = [
        caption(TIR_TARGETS, hovertext=f"{GLUCOSE.note}\nSource: {GLUCOSE.source}"),
        *annotations,
    ]
    return {"data": data, "layout": layout}
