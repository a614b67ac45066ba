"""Clinical chart builders as a clinician meets them: empty states, units, time zone, bands,
labels and note markers, read from the figure dicts a browser would receive."""

from __future__ import annotations

import base64
import html
import itertools
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.io.json as pio_json
import plotly.utils
import pytest

from components.arrays import typed_matrix
from components.clinical import (
    BASELINE_BAND_NAME,
    STEPS_CAPTION,
    agp_figure,
    baseline_figure,
    bp_category_figure,
    bp_trend_figure,
    heart_rate_figure,
    heatmap_figure,
    hypnogram_figure,
    spo2_nightly_figure,
    steps_figure,
    tir_figure,
    weight_figure,
)
from components.figures import empty_figure
from data import catalog
from data.reference_ranges import BP_CATEGORY_ORDER, BP_SYSTOLIC, GLUCOSE, SPO2

DAY, HOUR = 86400, 3600
MIDNIGHT = 1_709_251_200  # 2024-03-01 00:00 on the wall clock
TZ = "Europe/Berlin"
DAYS = MIDNIGHT + np.arange(4) * DAY
NOTE_AT = MIDNIGHT + DAY + 7 * HOUR  # shown as "2024-03-02T07"
NOTE = (NOTE_AT, "Started <b>amlodipine</b> 5 mg")
Figure = dict[str, Any]


def decode(arr: dict[str, str]) -> np.ndarray:
    """What plotly.js does with a typed array: little-endian bytes, reshaped if it says so."""
    values = np.frombuffer(base64.b64decode(arr["bdata"]),
                           dtype=np.dtype(arr["dtype"]).newbyteorder("<"))
    if "shape" in arr:
        values = values.reshape([int(n) for n in arr["shape"].split(",")])
    return values


def texts(figure: Figure) -> list[str]:
    """Every annotation as a reader gets it: visible text and hover text, tags undone."""
    return [
        html.unescape(f"{a['text']} {a.get('hovertext', '')}".replace("<br>", " "))
        for a in figure["layout"]["annotations"]
    ]


def trace(figure: Figure, name: str) -> Figure:
    return next(t for t in figure["data"] if t["name"] == name)


def shapes(figure: Figure, kind: str) -> list[Figure]:
    return [s for s in figure["layout"]["shapes"] if s["type"] == kind]


# One call per builder with ordinary data, and one with nothing to draw.
def bp_trend(**kw: Any) -> Figure:
    return bp_trend_figure(DAYS + 8 * HOUR, [118, 127, 135, 142], [76, 82, 88, 91], tz=TZ, **kw)


def weight(**kw: Any) -> Figure:
    return weight_figure(DAYS, [71.2, 70.8, np.nan, 70.4], [np.nan, np.nan, np.nan, 70.8],
                         tz=TZ, **kw)


def heart_rate(**kw: Any) -> Figure:
    return heart_rate_figure(DAYS, [71, 74, 69, 72], [52, 55, 50, 51], [150, 131, 122, 160],
                             tz=TZ, **kw)


def baseline(**kw: Any) -> Figure:
    return baseline_figure("resting_heart_rate", DAYS, [58, 61, 66, 59], [59, 59, 60, 60],
                           [56, 56, 57, 57], [62, 62, 63, 63], tz=TZ, **kw)


def spo2(**kw: Any) -> Figure:
    return spo2_nightly_figure(DAYS, [91, 88, 93, 90], [96, 95, 97, 96], tz=TZ, **kw)


def steps(**kw: Any) -> Figure:
    return steps_figure(DAYS, [8234, 10120, 4410, 7000],
                        ["Apple Watch", "iPhone", "Apple Watch", "Apple Watch"], tz=TZ, **kw)


MINUTES = np.arange(0, 1440, 15)
_CURVE = 25 * np.sin(MINUTES / 1440 * 2 * np.pi)


def agp(representative: bool = True, message: str = "14 days · 93% sensor wear") -> Figure:
    p5, p25, p50, p75, p95 = (base + _CURVE for base in (65.0, 95.0, 120.0, 150.0, 215.0))
    return agp_figure(MINUTES, p5, p25, p50, p75, p95, representative=representative,
                      message=message, tz=TZ)


TIR_SHARES = {"very_low": 0.6, "low": 3.4, "in_range": 71.0, "high": 20.0, "very_high": 5.0}


def tir() -> Figure:
    return tir_figure(TIR_SHARES, n=4032)


# Start, end, stage: in bed around the night, stages inside it, one awakening.
NIGHT = (
    np.array([-1800, 0, 1800, 4200, 5400, 6000]) + MIDNIGHT,
    np.array([27000, 1800, 4200, 5400, 6000, 25200]) + MIDNIGHT,
    np.array([0, 3, 4, 5, 2, 3]),
)


def hypnogram(**kw: Any) -> Figure:
    return hypnogram_figure(*NIGHT, night_label="Thu 29 Feb → Fri 1 Mar", tz=TZ, **kw)


HEAT = np.arange(168, dtype=np.float64).reshape(7, 24) * 100
HEAT[2, 5] = np.nan


def heatmap(how: str = "sum") -> Figure:
    return heatmap_figure(HEAT, metric_code="steps", how=how, tz=TZ)


def bp_category() -> Figure:
    return bp_category_figure({"Normal": 50, "Elevated": 30, "Stage 1 hypertension": 20}, n=40)


BUILDERS: dict[str, Callable[[], Figure]] = {
    "bp_trend": bp_trend, "bp_category": bp_category, "weight": weight,
    "heart_rate": heart_rate, "baseline": baseline, "spo2": spo2, "steps": steps, "agp": agp,
    "tir": tir, "hypnogram": hypnogram, "heatmap": heatmap,
}
NAN4 = [np.nan] * 4
EMPTY: list[tuple[Callable[[], Figure], str]] = [
    (lambda: bp_trend_figure([], [], [], tz=TZ), "No blood pressure readings in this range"),
    (lambda: bp_trend_figure(DAYS, NAN4, NAN4, tz=TZ), "No blood pressure readings in this range"),
    (lambda: bp_category_figure({c: float("nan") for c in BP_CATEGORY_ORDER}, n=0),
     "No blood pressure readings in this range"),
    (lambda: weight_figure(DAYS, NAN4, NAN4, tz=TZ), "No weight readings in this range"),
    (lambda: heart_rate_figure([], [], [], [], tz=TZ), "No heart rate readings in this range"),
    (lambda: baseline_figure("hrv_sdnn", DAYS, NAN4, NAN4, NAN4, NAN4, tz=TZ),
     "No heart rate variability (SDNN) readings in this range"),
    (lambda: spo2_nightly_figure(DAYS, NAN4, NAN4, tz=TZ), "No SpO2 readings in this range"),
    (lambda: steps_figure([], [], [], tz=TZ), "No step counts in this range"),
    (lambda: agp_figure([], [], [], [], [], [], representative=False, message="", tz=TZ),
     "No glucose readings in this range"),
    (lambda: tir_figure(dict.fromkeys(TIR_SHARES, float("nan")), n=0),
     "No glucose readings in this range"),
    (lambda: hypnogram_figure([MIDNIGHT], [MIDNIGHT + HOUR], [0], night_label="Fri 1 Mar", tz=TZ),
     "No sleep stages recorded for Fri 1 Mar"),
    (lambda: hypnogram_figure([], [], [], night_label="no night", tz=TZ),
     "No sleep recorded in this range"),
    (lambda: heatmap_figure(np.full((7, 24), np.nan), metric_code="heart_rate", how="mean",
                            tz=TZ), "No heart rate readings in this range"),
    (lambda: heatmap_figure(np.zeros((7, 24)), metric_code="spo2", how="count", tz=TZ),
     "No blood oxygen (SpO2) readings in this range"),
]


# --- every builder ---------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "message"), EMPTY)
def test_nothing_to_draw_says_so(build: Callable[[], Figure], message: str) -> None:
    assert build() == empty_figure(message)


@pytest.mark.parametrize("name", BUILDERS)
def test_figures_serialise_and_leave_config_to_the_page(name: str) -> None:
    figure = BUILDERS[name]()
    assert set(figure) == {"data", "layout"} and figure["data"]
    assert json.loads(pio_json.to_json_plotly(figure)) == json.loads(json.dumps(figure))
    assert json.dumps(figure, cls=plotly.utils.PlotlyJSONEncoder)
    assert "template" not in figure["layout"]


TIMED = [n for n in BUILDERS if n not in ("bp_category", "tir")]


@pytest.mark.parametrize("name", TIMED)
def test_charts_with_times_state_the_time_zone(name: str) -> None:
    assert any(f"Times in {TZ}" in text for text in texts(BUILDERS[name]()))


@pytest.mark.parametrize(
    ("name", "x_title", "y_title"),
    [("bp_trend", f"Date and time (local time, {TZ})", "Blood pressure (mmHg)"),
     ("bp_category", "Share of readings (%)", "ACC/AHA category"),
     ("weight", f"Date (local time, {TZ})", "Weight (kg)"),
     ("heart_rate", f"Date (local time, {TZ})", "Heart rate (bpm)"),
     ("baseline", f"Date (local time, {TZ})", "Resting heart rate (bpm)"),
     ("spo2", f"Date (local time, {TZ})", "SpO2 (%)"),
     ("steps", f"Date (local time, {TZ})", "Steps per day"),
     ("agp", f"Time of day (hh:mm, {TZ})", "Glucose (mg/dL)"),
     ("tir", "4,032 glucose readings, ranges in mg/dL", "Time in range (% of readings)"),
     ("hypnogram", f"Local time (hh:mm, {TZ})", "Sleep stage"),
     ("heatmap", f"Hour of day (h, {TZ})", "Weekday")],
)
def test_axes_are_titled_with_units(name: str, x_title: str, y_title: str) -> None:
    layout = BUILDERS[name]()["layout"]
    assert layout["xaxis"]["title"]["text"] == x_title
    assert layout["yaxis"]["title"]["text"] == y_title


DATED = ["bp_trend", "weight", "heart_rate", "baseline", "spo2", "steps", "hypnogram"]


@pytest.mark.parametrize("name", DATED)
def test_notes_become_dashed_lines_with_escaped_labels(name: str) -> None:
    build: Callable[..., Figure] = BUILDERS[name]  # type: ignore[assignment]
    note = (MIDNIGHT + 2 * HOUR, NOTE[1]) if name == "hypnogram" else NOTE
    figure = build(notes=[note])
    x = "2024-03-01T02" if name == "hypnogram" else "2024-03-02T07"
    line = next(s for s in shapes(figure, "line") if s.get("x0") == x)
    assert line["x1"] == x and line["line"]["dash"] == "dash" and line["yref"] == "paper"
    label = next(a for a in figure["layout"]["annotations"] if a.get("x") == x)
    assert label["text"] == "Started &lt;b&gt;amlodipine&lt;/b&gt; 5 mg"
    assert len(build()["layout"]["shapes"]) == len(figure["layout"]["shapes"]) - 1


@pytest.mark.parametrize("name", ["bp_trend", "weight", "baseline", "spo2", "steps", "agp"])
def test_uirevision_is_passed_through(name: str) -> None:
    build: Callable[..., Figure] = BUILDERS[name]  # type: ignore[assignment]
    if name == "agp":
        figure = agp_figure(MINUTES, *([_CURVE + 120] * 5), representative=True, message="",
                            tz=TZ, uirevision="p7:90d")
    else:
        figure = build(uirevision="p7:90d")
    assert figure["layout"]["uirevision"] == "p7:90d"


@pytest.mark.parametrize("name", ["bp_trend", "weight", "heart_rate", "baseline", "spo2"])
def test_every_trace_hover_names_its_unit(name: str) -> None:
    unit = {"weight": "kg", "spo2": "%", "bp_trend": "mmHg"}.get(name, "bpm")
    for t in BUILDERS[name]()["data"]:
        if t.get("hoverinfo") != "skip":
            assert f"{unit}<extra>" in t["hovertemplate"], t["name"]


# --- blood pressure ----------------------------------------------------------------------------


def test_bp_trend_draws_both_numbers_on_labelled_category_bands() -> None:
    figure = bp_trend()
    systolic, diastolic = trace(figure, "Systolic"), trace(figure, "Diastolic")
    assert systolic["marker"]["symbol"] != diastolic["marker"]["symbol"]
    assert systolic["mode"] == diastolic["mode"] == "lines+markers"
    np.testing.assert_array_equal(decode(diastolic["y"]), [76, 82, 88, 91])
    assert systolic["x"][0] == "2024-03-01T08"
    band_labels = {s["label"]["text"] for s in shapes(figure, "rect")}
    assert {f"{b.label} (systolic)" for b in BP_SYSTOLIC.bands} == band_labels
    dotted = {s["y0"]: s["label"]["text"] for s in shapes(figure, "line")
              if s["line"]["dash"] == "dot"}
    assert dotted == {80: "Diastolic 80: Stage 1 hypertension",
                      90: "Diastolic 90: Stage 2 hypertension"}
    assert any(BP_SYSTOLIC.source in text for text in texts(figure))
    assert any("4 readings" in text for text in texts(figure))


def test_bp_categories_in_guideline_order_with_percent_on_the_bars() -> None:
    bar = bp_category()["data"][0]
    assert bar["y"] == list(BP_CATEGORY_ORDER)
    assert bar["text"] == ["50%", "30%", "20%", "0%", "0%"]
    assert bar["textposition"] == "outside"
    np.testing.assert_array_equal(decode(bar["x"]), [50, 30, 20, 0, 0])
    assert len(set(bar["marker"]["color"])) == len(BP_CATEGORY_ORDER)
    tiny = bp_category_figure({"Normal": 99.95, "Elevated": 0.05}, n=2000)["data"][0]
    assert tiny["text"][:3] == ["&gt;99%", "&lt;0.1%", "0%"]  # escaped: plotly reads tags
    assert bp_category()["layout"]["yaxis"]["autorange"] == "reversed"  # Normal on top
    assert any("40 readings" in text for text in texts(bp_category()))


def test_bp_categories_refuse_a_label_they_do_not_know() -> None:
    with pytest.raises(ValueError, match="Stage 3"):
        bp_category_figure({"Stage 3": 10.0}, n=3)


# --- weight, heart, oxygen, steps ------------------------------------------------------------


def test_weight_points_and_the_given_seven_day_average() -> None:
    figure = weight()
    points, average = trace(figure, "Daily weight"), trace(figure, "7-day average")
    assert points["mode"] == "markers" and average["mode"] == "lines"
    assert points["x"] == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
    np.testing.assert_allclose(decode(points["y"]), [71.2, 70.8, np.nan, 70.4], rtol=1e-6)
    np.testing.assert_allclose(decode(average["y"]), [np.nan, np.nan, np.nan, 70.8], rtol=1e-6)


def test_heart_rate_band_runs_from_the_daily_minimum_to_maximum() -> None:
    figure = heart_rate()
    np.testing.assert_array_equal(decode(trace(figure, "Min")["y"]), [52, 55, 50, 51])
    band = trace(figure, "Range (min–max)")
    assert band["fill"] == "tonexty"
    np.testing.assert_array_equal(decode(band["y"]), [150, 131, 122, 160])
    np.testing.assert_array_equal(decode(trace(figure, "Heart rate")["y"]), [71, 74, 69, 72])


@pytest.mark.parametrize(("code", "y_title"), [("resting_heart_rate", "Resting heart rate (bpm)"),
                                               ("hrv_sdnn", "Heart rate variability (SDNN) (ms)")])
def test_baseline_band_and_dashed_median(code: str, y_title: str) -> None:
    figure = baseline_figure(code, DAYS, [40, 45, 50, 47], [44] * 4, [40] * 4, [49] * 4, tz=TZ)
    assert figure["layout"]["yaxis"]["title"]["text"] == y_title
    band = trace(figure, BASELINE_BAND_NAME)
    assert band["name"] == "Your usual range (previous 90 days, middle 50%)"
    assert band["fill"] == "tonexty"
    np.testing.assert_array_equal(decode(band["y"]), [49] * 4)
    median = trace(figure, "Your median (previous 90 days)")
    assert median["line"]["dash"] == "dash"
    np.testing.assert_array_equal(decode(trace(figure, catalog.get(code).name)["y"]),
                                  [40, 45, 50, 47])


def test_baseline_refuses_an_unknown_metric() -> None:
    with pytest.raises(catalog.UnknownMetric):
        baseline_figure("resting_hr", DAYS, [1] * 4, [1] * 4, [1] * 4, [1] * 4, tz=TZ)


def test_spo2_minimum_and_mean_with_the_labelled_low_line() -> None:
    figure = spo2()
    lowest, mean = trace(figure, "Nightly minimum"), trace(figure, "Nightly mean")
    assert lowest["marker"]["symbol"] != mean["marker"]["symbol"]
    np.testing.assert_array_equal(decode(lowest["y"]), [91, 88, 93, 90])
    low = next(s for s in shapes(figure, "line") if s["yref"] == "y")
    assert low["y0"] == low["y1"] == 90
    assert low["label"]["text"] == "Low: below 90%"
    assert any(SPO2.source in text for text in texts(figure))


def test_step_bars_name_the_source_that_won_each_day() -> None:
    figure = steps()
    bars = trace(figure, "Steps")
    assert bars["type"] == "bar"
    assert bars["customdata"] == ["Apple Watch", "iPhone", "Apple Watch", "Apple Watch"]
    assert "%{customdata}" in bars["hovertemplate"] and "steps" in bars["hovertemplate"]
    np.testing.assert_array_equal(decode(bars["y"]), [8234, 10120, 4410, 7000])
    assert any(STEPS_CAPTION in text for text in texts(figure))
    with pytest.raises(ValueError, match="3 sources for 4 days"):
        steps_figure(DAYS, [1, 2, 3, 4], ["a", "b", "c"], tz=TZ)


# --- glucose ---------------------------------------------------------------------------------


def test_agp_bands_are_ordered_and_filled_between_their_percentiles() -> None:
    figure = agp()
    names = [t["name"] for t in figure["data"]]
    assert names == ["5th percentile", "5th–95th percentile", "25th percentile",
                     "25th–75th percentile", "Median"]
    outer, inner = figure["data"][1], figure["data"][3]
    assert outer["fill"] == inner["fill"] == "tonexty"
    assert "fill" not in figure["data"][0] and "fill" not in figure["data"][2]
    assert outer["fillcolor"] != inner["fillcolor"]
    levels = [decode(t["y"]) for t in figure["data"]]
    assert all(np.all(a <= b) for a, b in zip(levels[::2], levels[1::2][:2], strict=False))
    np.testing.assert_allclose(levels[4], 120 + _CURVE, rtol=1e-6)
    assert all(t["x"][0] == "2000-01-01T00:00" and t["x"][4] == "2000-01-01T01:00"
               for t in figure["data"])


def test_agp_marks_the_target_range_and_cites_the_consensus() -> None:
    figure = agp()
    dashed = [s for s in shapes(figure, "line") if s["line"]["dash"] == "dash"]
    assert sorted(s["y0"] for s in dashed) == [70, 180]
    band = next(s for s in shapes(figure, "rect"))
    assert (band["y0"], band["y1"]) == (70, 180)
    assert any("Target range 70–180 mg/dL" in s["label"]["text"] for s in dashed)
    assert any(GLUCOSE.source in text for text in texts(figure))
    xaxis = figure["layout"]["xaxis"]
    assert xaxis["ticktext"] == ["00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00",
                                 "21:00", "24:00"]
    assert xaxis["range"] == ["2000-01-01", "2000-01-02"]
    assert xaxis["hoverformat"] == "%H:%M"


def test_agp_says_when_it_is_not_representative() -> None:
    message = "Only 9 days of readings <70% sensor wear>: not representative"
    shown = agp(representative=False, message=message)
    box = next(a for a in shown["layout"]["annotations"] if a.get("name") == "not representative")
    assert html.unescape(box["text"].replace("<br>", " ")) == message
    assert "&lt;70%" in box["text"]
    calm = agp(representative=True, message="14 days · 93% sensor wear")
    assert not any(a.get("name") == "not representative" for a in calm["layout"]["annotations"])
    assert any("14 days · 93% sensor wear" in text for text in texts(calm))


def test_tir_segments_stack_very_high_on_top_with_their_percentages() -> None:
    figure = tir()
    assert figure["layout"]["barmode"] == "stack"
    # Plotly stacks in trace order from the bottom: very low first, very high last.
    np.testing.assert_allclose([decode(t["y"])[0] for t in figure["data"]],
                               [0.6, 3.4, 71.0, 20.0, 5.0], rtol=1e-6)
    labels = {a["name"]: html.unescape(a["text"]) for a in figure["layout"]["annotations"]
              if a.get("name")}
    assert labels == {
        "very_high": "Very high >250: 5%", "high": "High 181–250: 20%",
        "in_range": "In range 70–180: 71%", "low": "Low 54–69: 3%",
        "very_low": "Very low <54: 0.6%",
    }
    heights = [a["ay"] for a in figure["layout"]["annotations"] if a.get("name")]
    assert all(b - a >= 8.9 for a, b in itertools.pairwise(heights))  # labels never overlap
    targets = " ".join(texts(figure))
    for target in (">70%", "<4%", "<1%", "<25%", "<5%"):
        assert target in targets
    assert "Battelino" in targets


def test_tir_refuses_unknown_ranges() -> None:
    with pytest.raises(ValueError, match="below_70"):
        tir_figure({**TIR_SHARES, "below_70": 4.0}, n=10)


# --- sleep -------------------------------------------------------------------------------------


def test_hypnogram_rows_run_awake_rem_core_deep_and_in_bed_is_a_span() -> None:
    figure = hypnogram()
    yaxis = figure["layout"]["yaxis"]
    rows = dict(zip(yaxis["tickvals"], yaxis["ticktext"], strict=True))
    assert [rows[v] for v in sorted(rows, reverse=True)] == ["Awake", "REM", "Core", "Deep"]
    names = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert "In bed" not in names and set(names) == {"Core", "Deep", "REM", "Awake"}
    level = {name: value for value, name in rows.items()}
    deep = trace(figure, "Deep")
    np.testing.assert_array_equal(decode(deep["y"])[:2], [level["Deep"]] * 2)
    assert deep["x"][:2] == ["2024-03-01T00:30", "2024-03-01T01:10"]
    assert deep["text"][0] == "00:30–01:10 · 40 min"
    in_bed = shapes(figure, "rect")
    assert len(in_bed) == 1 and in_bed[0]["label"]["text"] == "In bed"
    assert (in_bed[0]["x0"], in_bed[0]["x1"]) == ("2024-02-29T23:30", "2024-03-01T07:30")
    assert in_bed[0]["layer"] == "below"


def test_hypnogram_gives_unspecified_sleep_its_own_row_and_drops_far_notes() -> None:
    start, end, stage = NIGHT
    figure = hypnogram_figure(np.append(start, MIDNIGHT + 26000), np.append(end, MIDNIGHT + 26500),
                              np.append(stage, 1), night_label="Fri 1 Mar", tz=TZ,
                              notes=[(MIDNIGHT + 30 * DAY, "far away")])
    yaxis = figure["layout"]["yaxis"]
    order = [t for _, t in sorted(zip(yaxis["tickvals"], yaxis["ticktext"], strict=True),
                                  reverse=True)]
    assert order == ["Awake", "Asleep (unspecified)", "REM", "Core", "Deep"]
    assert shapes(figure, "line") == []


def test_hypnogram_refuses_unknown_stage_codes() -> None:
    with pytest.raises(ValueError, match=r"\[9\]"):
        hypnogram_figure([MIDNIGHT], [MIDNIGHT + 60], [9], night_label="x", tz=TZ)


# --- heatmap -------------------------------------------------------------------------------------


def test_heatmap_is_monday_first_with_blank_nan_cells() -> None:
    figure = heatmap()
    cells = figure["data"][0]
    assert cells["y"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert cells["x"] == [f"{h:02d}" for h in range(24)]
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"  # Monday on top
    z = decode(cells["z"])
    assert z.shape == (7, 24)
    np.testing.assert_array_equal(z, HEAT.astype(np.float32))  # NaN compares equal here
    assert np.isnan(z[2, 5]) and cells["hoverongaps"] is False
    assert cells["colorscale"] in ("Cividis", "Viridis")
    assert cells["colorbar"]["title"]["text"] == "Total (steps)"
    assert cells["hovertemplate"] == "%{y} %{x}:00 · %{z:,.0f} steps<extra></extra>"


def test_heatmap_of_counts_speaks_of_readings() -> None:
    cells = heatmap(how="count")["data"][0]
    assert cells["colorbar"]["title"]["text"] == "Readings (count)"
    assert cells["hovertemplate"].endswith(" readings<extra></extra>")
    mean = heatmap_figure(HEAT / 1000, metric_code="heart_rate", how="mean", tz=TZ)["data"][0]
    assert mean["colorbar"]["title"]["text"] == "Mean (bpm)"


def test_heatmap_refuses_a_matrix_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"\(24, 7\)"):
        heatmap_figure(HEAT.T, metric_code="steps", how="sum", tz=TZ)


def test_typed_matrix_round_trips_with_its_shape() -> None:
    encoded = typed_matrix(HEAT, "f4")
    assert encoded["shape"] == "7, 24"
    np.testing.assert_array_equal(decode(encoded), HEAT.astype(np.float32))
    with pytest.raises(ValueError, match="two-dimensional"):
        typed_matrix(np.arange(3.0))


def test_a_five_minute_agp_and_a_90_day_chart_stay_small() -> None:
    minutes = np.arange(0, 1440, 5)
    curve = 120 + 20 * np.sin(minutes / 229)
    figure = agp_figure(minutes, curve - 50, curve - 20, curve, curve + 25, curve + 90,
                        representative=True, message="", tz=TZ)
    assert len(json.dumps(figure)) < 60_000
    days = MIDNIGHT + np.arange(90) * DAY
    assert len(json.dumps(weight_figure(days, np.full(90, 70.0), np.full(90, 70.0),
                                        tz=TZ))) < 8_000
