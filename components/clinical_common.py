"""Pieces the clinical figure builders share: time-zone captions, layouts, labels, checks.

The builders themselves live in `components.clinical` (trends), `components.clinical_glucose`
(AGP, time in range) and `components.clinical_patterns` (hypnogram, weekday × hour heatmap);
import them all from `components.clinical`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from components.figures import (
    RESOLUTION_ANNOTATION,
    Figure,
    base_layout,
    caption,
    note_marks,
)
from data.queries import Resolution

Notes = Sequence[tuple[int, str]]

# Okabe–Ito colours the base palette in components.figures leaves out.
GREEN, YELLOW, VERMILLION = "#009E73", "#F0E442", "#D55E00"
WHITE = "#FFFFFF"


def tz_text(tz: str) -> str:
    """"Times in Europe/Berlin": the caption every chart with a time axis carries."""
    return f"Times in {tz}"


def has_finite(*arrays: Any) -> bool:
    """Whether any array holds a finite number; empty and all-NaN input count as nothing."""
    return any(
        a is not None and bool(np.isfinite(np.asarray(a, dtype=np.float64)).any())
        for a in arrays
    )


def floats(values: Any) -> np.ndarray:
    """Input as float64, so None and NaN both become gaps."""
    return np.asarray(values, dtype=np.float64)


def date_layout(
    y_title: str, tz: str, *, notes: Notes = (), uirevision: str | None = None,
    detail: str = "", resolution: Resolution = "day",
) -> Figure:
    """A date-axis layout: y title, the time-zone caption first, then the note markers."""
    layout = base_layout(y_title, resolution, uirevision)
    text = tz_text(tz) + (f" · {detail}" if detail else "")
    layout["annotations"].append(caption(text))
    add_notes(layout, notes)
    title_x(layout, date_title(tz, resolution))
    return layout


def date_title(tz: str, resolution: Resolution = "day") -> str:
    """The date axis's title: what a tick means and on whose clock."""
    return f"{'Date' if resolution == 'day' else 'Date and time'} (local time, {tz})"


def title_x(layout: Figure, text: str) -> Figure:
    """Title the x axis and move a bottom legend below the title instead of over it."""
    layout["xaxis"]["title"] = {"text": text, "standoff": 8}
    layout["legend"] = {"orientation": "h", "x": 0, "y": -0.24, "yanchor": "top"}
    layout["margin"]["b"] = max(layout["margin"].get("b", 0), 72)
    return layout


def add_notes(layout: Figure, notes: Notes) -> None:
    """User notes as dashed lines with escaped labels, appended to the layout's own marks."""
    lines, labels = note_marks(notes)
    layout.setdefault("shapes", []).extend(lines)
    layout.setdefault("annotations", []).extend(labels)


def recaption(figure: Figure, text: str, x_title: str) -> Figure:
    """A `components.figures` time chart with its resolution caption replaced by `text`.

    The clinical charts state the time zone where the series charts state the resolution;
    both sit in the same place, so the page's Patch of that caption still finds it.
    """
    figure["layout"]["annotations"][RESOLUTION_ANNOTATION] = caption(text)
    title_x(figure["layout"], x_title)
    return figure


def plain_layout(x_title: str, y_title: str) -> Figure:
    """Layout of a chart without a date axis (shares, profiles, matrices)."""
    return {
        "xaxis": {"title": {"text": x_title}, "gridcolor": WHITE, "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#E6E6E6", "zeroline": False},
        "margin": {"l": 60, "r": 16, "t": 56, "b": 48},
        "legend": {"orientation": "h", "x": 0, "y": -0.24, "yanchor": "top"},
        "paper_bgcolor": WHITE, "plot_bgcolor": WHITE, "shapes": [], "annotations": [],
        "showlegend": False,
    }


def percent_label(share: float) -> str:
    """A share as a reader wants it: "42%", "0.6%" for a small one, "<0.1%" for a trace.

    Rounding never turns a share into 0% or 100% that is not: 99.7 reads ">99%".
    """
    if not np.isfinite(share) or share <= 0:
        return "0%"
    if share < 0.1:
        return "<0.1%"
    if share < 1:
        return f"{share:.1f}%"
    if 99.5 <= share < 100:
        return ">99%"
    return f"{share:.0f}%"


def threshold_line(
    y: float, label: str, colour: str, *, dash: str = "dot", position: str = "start"
) -> Figure:
    """A full-width horizontal line at `y` with its label written on it."""
    return {
        "type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
        "line": {"color": colour, "width": 1.5, "dash": dash},
        "label": {"text": label, "textposition": position, "yanchor": "bottom",
                  "font": {"size": 10, "color": "#333333"}},
    }
