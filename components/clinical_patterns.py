"""Patterns within a day or a week: one night's hypnogram and a weekday × hour heatmap."""

from __future__ import annotations

from typing import Any

import numpy as np

from components.arrays import local_dates, typed, typed_matrix
from components.clinical_common import (
    Notes,
    add_notes,
    floats,
    has_finite,
    plain_layout,
    title_x,
    tz_text,
)
from components.figures import (
    BLACK,
    MUTED,
    Figure,
    base_layout,
    caption,
    display_unit,
    empty_figure,
)
from components.sleep import IN_BED, STAGE_COLOURS
from data import catalog
from data.catalog import SLEEP_STAGES

# Rows from the top: wake first and deep sleep last, the usual clinical hypnogram; sleep
# without a stage sits just under Awake, and only when the night has some.
HYPNOGRAM_ROWS: tuple[int, ...] = (2, 1, 5, 3, 4)
_ALWAYS_SHOWN = frozenset({2, 5, 3, 4})
IN_BED_FILL = "rgba(0, 0, 0, 0.07)"
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS: tuple[str, ...] = tuple(f"{h:02d}" for h in range(24))
HEATMAP_SCALE = "Cividis"  # sequential, readable with every common colour-vision deficiency
_HOW_LABELS = {"mean": "Mean", "median": "Median", "sum": "Total", "min": "Minimum",
               "max": "Maximum", "count": "Readings"}


def _clock(seconds: np.ndarray) -> np.ndarray:
    """Local epoch seconds as "HH:MM"."""
    minutes = (seconds % 86_400) // 60
    return np.char.add(np.char.add(np.char.zfill((minutes // 60).astype(str), 2), ":"),
                       np.char.zfill((minutes % 60).astype(str), 2))


def hypnogram_figure(
    start_local: Any, end_local: Any, stage: Any, *, night_label: str, tz: str,
    notes: Notes = (),
) -> Figure:
    """One night's stages as coloured horizontal segments joined by a thin step line.

    `stage` holds HealthKit codes (`data.catalog.SLEEP_STAGES`). In-bed intervals overlap
    the stages, so they are light background spans labelled "In bed", never a row. Notes
    are drawn only if they fall within the night, so one elsewhere cannot stretch the axis.
    """
    start = np.asarray(start_local, dtype=np.int64)
    end = np.asarray(end_local, dtype=np.int64)
    codes = np.asarray(stage, dtype=np.int64)
    unknown = set(codes.tolist()) - set(SLEEP_STAGES)
    if unknown:
        raise ValueError(f"unknown sleep stage codes: {sorted(unknown)}")
    if codes.size == 0:
        return empty_figure("No sleep recorded in this range")
    asleep = codes != IN_BED
    if not asleep.any():
        return empty_figure(f"No sleep stages recorded for {night_label}")
    rows = [s for s in HYPNOGRAM_ROWS if s in _ALWAYS_SHOWN or (codes == s).any()]
    level = {s: len(rows) - 1 - i for i, s in enumerate(rows)}

    order = np.argsort(start[asleep], kind="stable")
    s_start, s_end, s_code = start[asleep][order], end[asleep][order], codes[asleep][order]
    s_level = np.array([level[c] for c in s_code], dtype=np.float64)
    # Step line: each segment's two ends, broken by NaN where the record has a gap.
    gap = np.append(s_start[1:] != s_end[:-1], True)
    step_t = np.column_stack([s_start, s_end, s_end]).ravel()
    step_y = np.column_stack([s_level, s_level, np.where(gap, np.nan, s_level)]).ravel()
    data: list[Figure] = [{
        "type": "scatter", "mode": "lines", "name": "Stage changes", "showlegend": False,
        "x": local_dates(step_t), "y": typed(step_y, "f4"), "hoverinfo": "skip",
        "line": {"color": BLACK, "width": 1},
    }]
    for code in rows:
        mine = s_code == code
        if not mine.any():
            continue
        t = np.column_stack([s_start[mine], s_end[mine], s_end[mine]]).ravel()
        y = np.column_stack([s_level[mine], s_level[mine], np.full(mine.sum(), np.nan)]).ravel()
        span = np.char.add(np.char.add(_clock(s_start[mine]), "–"), _clock(s_end[mine]))
        minutes = np.rint((s_end[mine] - s_start[mine]) / 60).astype(int).astype(str)
        label = np.char.add(np.char.add(span, " · "), np.char.add(minutes, " min"))
        data.append({
            "type": "scatter", "mode": "lines", "name": SLEEP_STAGES[code],
            "x": local_dates(t), "y": typed(y, "f4"),
            "text": np.column_stack([label, label, np.full(mine.sum(), "")]).ravel().tolist(),
            "line": {"color": STAGE_COLOURS[code], "width": 12},
            "hovertemplate": f"{SLEEP_STAGES[code]}: %{{text}}<extra></extra>",
        })

    layout = base_layout("Sleep stage", "raw", None)
    layout["hovermode"] = "closest"
    title_x(layout, f"Local time (hh:mm, {tz})")
    layout["xaxis"]["tickformat"] = "%H:%M"
    layout["yaxis"] |= {"tickmode": "array", "tickvals": [level[s] for s in rows],
                        "ticktext": [SLEEP_STAGES[s] for s in rows],
                        "range": [-0.6, len(rows) - 0.4], "fixedrange": True}
    layout["margin"]["l"] = 140
    layout["annotations"].append(caption(f"{night_label} · {tz_text(tz)}"))
    bed = codes == IN_BED
    for x0, x1 in zip(local_dates(start[bed]), local_dates(end[bed]), strict=True):
        layout["shapes"].append({
            "type": "rect", "name": SLEEP_STAGES[IN_BED], "layer": "below", "xref": "x",
            "x0": x0, "x1": x1, "yref": "paper", "y0": 0, "y1": 1, "fillcolor": IN_BED_FILL,
            "line": {"width": 0}, "label": {"text": SLEEP_STAGES[IN_BED],
                                            "textposition": "top left",
                                            "font": {"size": 10, "color": MUTED}},
        })
    first, last = int(min(start.min(), s_start.min())), int(max(end.max(), s_end.max()))
    add_notes(layout, [(t, text) for t, text in notes if first <= t <= last])
    return {"data": data, "layout": layout}


def heatmap_figure(matrix: Any, *, metric_code: str, how: str, tz: str) -> Figure:
    """A metric by weekday (rows, Monday on top) and local hour; NaN cells stay blank.

    `how` names the statistic in each cell ("mean", "sum", …); "count" means each cell
    counts readings, so the colour bar and hover speak of readings, not the metric's unit.
    """
    values = floats(matrix)
    if values.shape != (7, 24):
        raise ValueError(f"the heatmap takes a 7 × 24 matrix, got shape {values.shape}")
    metric = catalog.get(metric_code)
    name = metric.name[:1].lower() + metric.name[1:]
    if not has_finite(values) or (how == "count" and not np.nansum(values) > 0):
        return empty_figure(f"No {name} readings in this range")
    if how == "count":
        unit, decimals, bar_title = "readings", 0, "Readings (count)"
    else:
        unit, decimals = display_unit(metric), metric.decimals
        bar_title = f"{_HOW_LABELS.get(how, how.capitalize())} ({unit})"
    trace: Figure = {
        "type": "heatmap", "z": typed_matrix(values, "f4"), "x": list(HOURS),
        "y": list(WEEKDAYS), "colorscale": HEATMAP_SCALE, "hoverongaps": False,
        "xgap": 1, "ygap": 1, "colorbar": {"title": {"text": bar_title}, "thickness": 12},
        "hovertemplate": f"%{{y}} %{{x}}:00 · %{{z:,.{decimals}f}} {unit}<extra></extra>",
    }
    layout = plain_layout(f"Hour of day (h, {tz})", "Weekday")
    layout["xaxis"] |= {"type": "category"}
    layout["yaxis"] |= {"type": "category", "autorange": "reversed", "gridcolor": "#FFFFFF"}
    what = "readings" if how == "count" else bar_title.split(" (")[0].lower()
    layout["annotations"] = [caption(f"{tz_text(tz)} · {metric.name}: {what} per hour")]
    return {"data": [trace], "layout": layout}
