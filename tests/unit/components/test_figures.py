"""Figure builders as a browser would receive them: decoded arrays, captions, bands, sizes."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
from typing import Any

import numpy as np
import pytest

from components.arrays import local_dates, typed
from components.figures import (
    RESOLUTION_ANNOTATION,
    bp_figure,
    empty_figure,
    patch_series,
    resolution_label,
    series_figure,
)
from components.sleep import sleep_figure
from data import catalog
from data.repository.reads import Series

DAY, HOUR = 86400, 3600
MIDNIGHT = 1_709_251_200  # 2024-03-01 00:00 on the wall clock


def make_series(code: str, resolution: str, t_local: Any, value: Any, *, band: bool = False,
                rows_read: int | None = None) -> Series:
    """A repository Series; t_utc is an hour behind, as for someone in UTC+1."""
    t = np.asarray(t_local, dtype=np.int64)
    v = np.asarray(value, dtype=np.float64)
    return Series(
        metric=code, unit=catalog.get(code).canonical_unit, resolution=resolution,  # type: ignore[arg-type]
        t_utc=t - HOUR, t_local=t, value=v,
        low=v - 5 if band else None, high=v + 5 if band else None,
        source=None, rows_read=len(t) if rows_read is None else rows_read,
    )


def decode(arr: dict[str, str]) -> np.ndarray:
    """What plotly.js does with a typed array: base64 bytes read as little-endian numbers."""
    dtype = np.dtype(arr["dtype"]).newbyteorder("<")
    return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=dtype)


def daily(code: str, values: Any, **kwargs: Any) -> Series:
    return make_series(code, "day", MIDNIGHT + np.arange(len(values)) * DAY, values, **kwargs)


def caption_text(annotation: dict[str, Any]) -> str:
    """Visible text and hover text as a reader gets them, line breaks as spaces."""
    visible = annotation["text"].replace("<br>", " ")
    return html.unescape(f"{visible} {annotation.get('hovertext', '')}".replace("<br>", " "))


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in figure["data"] if t["name"] == name)


# --- arrays ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["f8", "f4", "i4"])
def test_typed_arrays_decode_to_the_same_numbers(dtype: str) -> None:
    values = np.array([0, -3, 62, 1_000_000, 7], dtype=np.float64)
    assert typed(values, dtype)["dtype"] == dtype  # type: ignore[arg-type]
    np.testing.assert_array_equal(decode(typed(values, dtype)), values)  # type: ignore[arg-type]


def test_float32_keeps_nan_gaps_and_readings_to_display_precision() -> None:
    values = np.array([71.43, np.nan, 36.65])
    decoded = decode(typed(values, "f4"))
    assert np.isnan(decoded[1])
    np.testing.assert_allclose(decoded[[0, 2]], [71.43, 36.65], rtol=1e-6)


def test_local_dates_are_the_wall_clock_at_the_coarsest_exact_unit() -> None:
    assert local_dates(np.array([MIDNIGHT, MIDNIGHT + DAY])) == ["2024-03-01", "2024-03-02"]
    assert local_dates(np.array([MIDNIGHT + 8 * HOUR])) == ["2024-03-01T08"]
    assert local_dates(np.array([MIDNIGHT + 8 * HOUR + 1830])) == ["2024-03-01T08:30:30"]


# --- series_figure --------------------------------------------------------------------------


@pytest.mark.parametrize(("resolution", "step"), [("day", DAY), ("hour", HOUR)])
def test_a_2000_point_rollup_with_its_band_stays_under_150_kb(resolution: str, step: int) -> None:
    rng = np.random.default_rng(7)
    t = MIDNIGHT + np.arange(2000) * step
    series = make_series("heart_rate", resolution, t, rng.normal(70, 8, 2000), band=True,
                         rows_read=12_000)
    figure = series_figure(series, catalog.get("heart_rate"), rolling=None)
    assert [t["name"] for t in figure["data"]] == ["Min", "Range (min–max)", "Heart rate"]
    assert len(json.dumps(figure)) < 150_000
    # The default adds the rolling average, a fourth copy of the time axis.
    assert len(json.dumps(series_figure(series, catalog.get("heart_rate")))) < 200_000


@pytest.mark.parametrize(
    ("resolution", "step", "expected"),
    [("raw", 300, "Resolution: raw · 3 points"), ("hour", HOUR, "Resolution: hourly · 3 points"),
     ("day", DAY, "Resolution: daily · 3 points")],
)
def test_resolution_caption_names_resolution_and_points(
    resolution: str, step: int, expected: str
) -> None:
    series = make_series("heart_rate", resolution, MIDNIGHT + np.arange(3) * step, [60, 61, 62])
    figure = series_figure(series, catalog.get("heart_rate"))
    assert figure["layout"]["annotations"][RESOLUTION_ANNOTATION]["text"] == expected


def test_resolution_caption_says_when_points_were_downsampled() -> None:
    series = daily("heart_rate", [60, 61, 62], rows_read=9_000)
    text = series_figure(series, catalog.get("heart_rate"))["layout"]["annotations"][0]["text"]
    assert text == "Resolution: daily · 3 points (downsampled from 9,000)"


def test_resolution_labels() -> None:
    assert [resolution_label(r) for r in ("raw", "hour", "day")] == ["raw", "hourly", "daily"]
    with pytest.raises(ValueError, match="minute"):
        resolution_label("minute")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "values", "thresholds"),
    [("resting_heart_rate", [58, 64, 71], {60, 100}),
     ("blood_glucose", [95, 160, 210], {54, 70, 180, 250})],
)
def test_reference_bands_are_drawn_with_their_source(
    code: str, values: list[float], thresholds: set[float]
) -> None:
    metric = catalog.get(code)
    assert metric.reference is not None
    layout = series_figure(daily(code, values), metric)["layout"]
    rects = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert [s["name"] for s in rects] == [b.label for b in metric.reference.bands]
    assert all(s["yref"] == "y" and s["xref"] == "paper" and s["layer"] == "below" for s in rects)
    assert thresholds <= {edge for s in rects for edge in (s["y0"], s["y1"])}
    assert rects[0]["y0"] < min(values) and rects[-1]["y1"] > max(values)  # open ends reach data
    sources = [a for a in layout["annotations"] if a["text"].startswith("Reference: ")]
    assert len(sources) == 1 and sources[0]["x"] == 1
    assert metric.reference.source in caption_text(sources[0])


def test_band_colours_follow_severity() -> None:
    metric = catalog.get("blood_glucose")
    assert metric.reference is not None
    shapes = series_figure(daily("blood_glucose", [100, 120]), metric)["layout"]["shapes"]
    fill = {s["name"]: s["fillcolor"] for s in shapes}
    by_severity: dict[str, set[str]] = {}
    for band in metric.reference.bands:
        by_severity.setdefault(band.severity, set()).add(fill[band.label])
    assert all(len(colours) == 1 for colours in by_severity.values())
    assert len({c for colours in by_severity.values() for c in colours}) == len(by_severity) == 4


def test_reference_can_be_switched_off() -> None:
    layout = series_figure(daily("blood_glucose", [100, 120]), catalog.get("blood_glucose"),
                           reference=False)["layout"]
    assert layout["shapes"] == []
    assert not any(a["text"].startswith("Reference") for a in layout["annotations"])


@pytest.mark.parametrize("values", [[], [np.nan, np.nan]])
def test_nothing_to_draw_gives_the_empty_state(values: list[float]) -> None:
    figure = series_figure(daily("heart_rate", values), catalog.get("heart_rate"))
    assert figure == empty_figure("No readings in this range")
    assert figure["data"] == []
    assert figure["layout"]["annotations"][0]["text"] == "No readings in this range"
    assert figure["layout"]["xaxis"]["visible"] is False


def test_cumulative_daily_totals_are_bars_without_a_min_max_band() -> None:
    figure = series_figure(daily("steps", [8000, 9500, 4000], band=True), catalog.get("steps"),
                           rolling=None)
    assert [t["type"] for t in figure["data"]] == ["bar"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Steps"


def test_layout_basics_and_wall_clock_x() -> None:
    series = make_series("heart_rate", "raw", [MIDNIGHT + 8 * HOUR, MIDNIGHT + 9 * HOUR], [60, 70])
    figure = series_figure(series, catalog.get("heart_rate"), uirevision="hr:7d")
    layout = figure["layout"]
    assert layout["yaxis"]["title"]["text"] == "Heart rate (bpm)"
    assert layout["xaxis"]["type"] == "date"
    assert layout["hovermode"] == "x unified"
    assert layout["uirevision"] == "hr:7d"
    assert "template" not in layout
    main = trace(figure, "Heart rate")
    assert main["x"] == ["2024-03-01T08", "2024-03-01T09"]  # t_local, not t_utc
    np.testing.assert_array_equal(decode(main["y"]), [60, 70])


def test_rolling_average_is_a_trailing_mean_of_whole_windows() -> None:
    values = [60.0, 62.0, 64.0, 66.0, 68.0, 70.0]
    figure = series_figure(daily("resting_heart_rate", values), catalog.get("resting_heart_rate"),
                           rolling=3)
    average = trace(figure, "3-day average")
    assert figure["data"][-1] is average
    got = decode(average["y"])
    assert len(got) == len(decode(trace(figure, "Resting heart rate")["y"]))
    np.testing.assert_allclose(got, [np.nan, np.nan, 62, 64, 66, 68])


def test_rolling_average_window_is_in_days_not_points() -> None:
    days = np.array([0, 1, 2, 5, 6])  # nothing recorded on days 3 and 4
    series = make_series("resting_heart_rate", "day", MIDNIGHT + days * DAY, [60, 63, 66, 80, 90])
    figure = series_figure(series, catalog.get("resting_heart_rate"), rolling=3)
    np.testing.assert_allclose(decode(trace(figure, "3-day average")["y"]),
                               [np.nan, np.nan, 63, 80, 85])


def test_only_daily_data_gets_a_rolling_average() -> None:
    hourly = make_series("heart_rate", "hour", MIDNIGHT + np.arange(30) * HOUR, np.arange(30.0))
    names = [t["name"] for t in series_figure(hourly, catalog.get("heart_rate"))["data"]]
    assert not any("average" in name for name in names)
    raw = make_series("heart_rate", "raw", MIDNIGHT + np.arange(30) * 60, np.arange(30.0))
    assert len(series_figure(raw, catalog.get("heart_rate"))["data"]) == 1


def test_patch_carries_the_same_traces_and_caption() -> None:
    series = daily("resting_heart_rate", np.linspace(55, 65, 20), band=True, rows_read=40)
    metric = catalog.get("resting_heart_rate")
    figure = series_figure(series, metric)
    patch = patch_series(series, metric)
    assert patch["data"] == figure["data"]
    caption = figure["layout"]["annotations"][RESOLUTION_ANNOTATION]
    assert patch["resolution_text"] == caption["text"]


def test_notes_are_dashed_lines_with_escaped_labels() -> None:
    when = MIDNIGHT + DAY + 7 * HOUR
    figure = series_figure(daily("body_mass", [71.0, 70.8, 70.9]), catalog.get("body_mass"),
                           notes=[(when, "Started <b>metformin</b>")])
    line = next(s for s in figure["layout"]["shapes"] if s["type"] == "line")
    assert line["x0"] == line["x1"] == "2024-03-02T07"
    assert line["line"]["dash"] == "dash"
    label = next(a for a in figure["layout"]["annotations"] if a.get("x") == "2024-03-02T07")
    assert label["text"] == "Started &lt;b&gt;metformin&lt;/b&gt;"


# --- blood pressure -------------------------------------------------------------------------


def test_bp_figure_has_both_numbers_and_the_systolic_category_bands() -> None:
    systolic = daily("bp_systolic", [118, 127, 135, 142])
    diastolic = daily("bp_diastolic", [76, 82, 88, 91])
    figure = bp_figure(systolic, diastolic)
    assert [t["name"] for t in figure["data"]] == ["Systolic", "Diastolic"]
    assert all(t["mode"] == "lines+markers" for t in figure["data"])
    rects = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert {120, 130, 140, 180} <= {edge for s in rects for edge in (s["y0"], s["y1"])}
    assert "Stage 1 hypertension (systolic)" in [s["label"]["text"] for s in rects]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Blood pressure (mmHg)"
    source = catalog.get("bp_systolic").reference.source  # type: ignore[union-attr]
    assert any(source in caption_text(a) for a in figure["layout"]["annotations"])


def test_bp_figure_without_readings_is_empty() -> None:
    figure = bp_figure(daily("bp_systolic", []), daily("bp_diastolic", []))
    assert figure == empty_figure("No blood pressure readings in this range")


# --- sleep ----------------------------------------------------------------------------------


def test_sleep_stages_stack_in_hours_and_in_bed_does_not() -> None:
    nights = [MIDNIGHT, MIDNIGHT + DAY]
    minutes = {0: [480, 450], 1: [0, 0], 2: [20, 30], 3: [220, 200], 4: [75, 60], 5: [95, 100]}
    figure = sleep_figure(nights, minutes)
    bars = [t for t in figure["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["Deep", "Core", "REM", "Awake"]  # no empty Unspecified
    assert figure["layout"]["barmode"] == "stack"
    np.testing.assert_allclose(decode(bars[0]["y"]), [75 / 60, 60 / 60], rtol=1e-6)
    in_bed = trace(figure, "In bed")
    assert in_bed["type"] == "scatter"
    np.testing.assert_allclose(decode(in_bed["y"]), [8.0, 7.5])
    assert bars[0]["x"] == ["2024-03-01", "2024-03-02"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Sleep (h)"
    guide = next(s for s in figure["layout"]["shapes"] if s["type"] == "line")
    assert guide["y0"] == guide["y1"] == 7 and guide["line"]["dash"] == "dash"
    assert "AASM/SRS" in guide["label"]["text"]


def test_sleep_without_stages_is_empty_and_ragged_input_is_refused() -> None:
    assert sleep_figure([], {}) == empty_figure("No sleep recorded in this range")
    assert sleep_figure([MIDNIGHT], {0: [400]}) == empty_figure("No sleep recorded in this range")
    with pytest.raises(ValueError, match="stage 4 has 1 nightly values for 2 nights"):
        sleep_figure([MIDNIGHT, MIDNIGHT + DAY], {4: [60]})


def test_cumulative_bars_name_the_source_that_won_each_day() -> None:
    series = make_series("steps", "day", MIDNIGHT + np.arange(3) * 86400,
                         np.array([8000.0, 9000.0, 7000.0]))
    series = dataclasses.replace(series, source=["Apple Watch", "iPhone", "Apple Watch"])
    bars = trace(series_figure(series, catalog.get("steps")), "Steps")
    assert bars["customdata"] == ["Apple Watch", "iPhone", "Apple Watch"]
    assert "counted from %{customdata}" in bars["hovertemplate"]
