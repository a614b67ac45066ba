"""Nightly sleep as stacked stage bars, built as a plain plotly figure dict.

InBed intervals overlap the stage intervals (see `data.catalog.SLEEP_STAGES`), so time in
bed is drawn as a line over the bars, never stacked with them: stacking it would count
the same minutes twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from components.arrays import local_dates, typed
from components.figures import (
    BLACK,
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
from data import catalog
from data.catalog import SLEEP_STAGES

IN_BED = 0
# Bottom to top: deepest sleep at the base, wake on top, as sleep apps draw it.
STACK_ORDER: tuple[int, ...] = (4, 3, 5, 1, 2)
STAGE_COLOURS: Mapping[int, str] = {4: BLUE, 3: SKY, 5: PURPLE, 1: "#999999", 2: ORANGE}
RECOMMENDED_HOURS = 7.0


def sleep_figure(nights: Sequence[int], minutes: Mapping[int, Sequence[float]]) -> Figure:
    """Hours per stage for each night, stacked, with time in bed and the 7-hour guidance.

    `nights` are local midnights (epoch seconds) of the date each night ends;
    `minutes[stage]` holds that stage's minutes for every night, in the same order.
    Stages missing from `minutes`, or zero on every night, get no trace.
    """
    for stage, values in minutes.items():
        if len(values) != len(nights):
            raise ValueError(
                f"sleep stage {stage} has {len(values)} nightly values for {len(nights)} nights"
            )
    stages = [
        s for s in STACK_ORDER
        if s in minutes and np.nansum(np.asarray(minutes[s], dtype=np.float64)) > 0
    ]
    if not stages:
        return empty_figure("No sleep recorded in this range")
    x = local_dates(np.asarray(nights, dtype=np.int64))
    data: list[Figure] = []
    for stage in stages:
        stage_minutes = np.asarray(minutes[stage], dtype=np.float64)
        data.append({
            "type": "bar", "name": SLEEP_STAGES[stage], "x": x,
            "y": typed(stage_minutes / 60.0, "f4"), "customdata": typed(stage_minutes, "f4"),
            "marker": {"color": STAGE_COLOURS[stage]},
            "hovertemplate": f"{SLEEP_STAGES[stage]}: %{{customdata:.0f}} min<extra></extra>",
        })
    if IN_BED in minutes:
        in_bed = np.asarray(minutes[IN_BED], dtype=np.float64)
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": SLEEP_STAGES[IN_BED], "x": x,
            "y": typed(in_bed / 60.0, "f4"), "customdata": typed(in_bed, "f4"),
            "line": {"color": BLACK, "width": 1}, "marker": {"color": BLACK, "size": 3},
            "hovertemplate": f"{SLEEP_STAGES[IN_BED]}: %{{customdata:.0f}} min<extra></extra>",
        })
    layout = base_layout("Sleep (h)", "day", None)
    layout["barmode"] = "stack"
    layout["yaxis"]["rangemode"] = "tozero"
    reference = catalog.get("sleep_stage").reference
    if reference is not None:
        # "AASM/SRS joint consensus statement" from the full citation, short enough for a label.
        short = reference.source.split(":", 1)[0]
        layout["shapes"].append({
            "type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
            "y0": RECOMMENDED_HOURS, "y1": RECOMMENDED_HOURS,
            "line": {"color": MUTED, "width": 1.5, "dash": "dash"},
            "label": {
                "text": f"{RECOMMENDED_HOURS:g} h — {short}", "textposition": "end",
                "yanchor": "bottom", "font": {"size": 10, "color": MUTED},
            },
        })
        layout["annotations"].append(
            caption(f"Reference: {reference.source}", right=True, hovertext=reference.note)
        )
    return {"data": data, "layout": layout}
