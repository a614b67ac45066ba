"""The numbers of each clinical panel as labelled, formatted statistics.

One formatter per panel, used by the page, the PDF report and the API alike, so a number
reads the same everywhere ("132/84 mmHg", "71.3%"). Values keep their raw number beside
the text for the API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data import catalog
from data.panels import (
    BpPanel,
    GlucosePanel,
    HeartPanel,
    SleepPanel,
    Spo2Panel,
    StepsPanel,
    WeightPanel,
)

NO_VALUE = "—"


@dataclass(frozen=True)
class Stat:
    """One labelled figure: `text` as shown, `value` the number behind it (None if none)."""

    key: str
    label: str
    text: str
    detail: str = ""
    value: float | list[float] | None = None


def _ok(value) -> bool:
    return value is not None and math.isfinite(float(value))


def number(value: float | None, decimals: int = 0, unit: str = "") -> str:
    """"1,234 steps", "71.3%", "—" for no value."""
    if not _ok(value):
        return NO_VALUE
    text = f"{round(float(value), decimals) + 0.0:,.{decimals}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def signed(value: float | None, decimals: int, unit: str) -> str:
    """"+1.2 kg", "−0.4 kg"."""
    if not _ok(value):
        return NO_VALUE
    rounded = round(float(value), decimals) + 0.0
    sign = "+" if rounded > 0 else ("−" if rounded < 0 else "±")
    return f"{sign}{abs(rounded):,.{decimals}f} {unit}"


def pressure(systolic: float | None, diastolic: float | None) -> str:
    """"132/84 mmHg"."""
    if not (_ok(systolic) and _ok(diastolic)):
        return NO_VALUE
    return f"{round(systolic):.0f}/{round(diastolic):.0f} mmHg"


def _readings(n: int) -> str:
    return f"{n:,} reading{'' if n == 1 else 's'}"


def bp_stats(panel: BpPanel) -> list[Stat]:
    """Mean, morning and evening means, latest reading with its ACC/AHA category."""
    s = panel.summary
    if s is None:
        return [Stat("bp_mean", "Mean blood pressure", NO_VALUE, "no readings in this range")]
    mean_band = catalog.bp_category(s.mean_systolic, s.mean_diastolic).label
    return [
        Stat("bp_mean", "Mean blood pressure", pressure(s.mean_systolic, s.mean_diastolic),
             f"{mean_band} · {_readings(s.n)}", [s.mean_systolic, s.mean_diastolic]),
        Stat("bp_morning", "Morning mean", pressure(s.morning_systolic, s.morning_diastolic),
             _readings(s.morning_n), [s.morning_systolic, s.morning_diastolic]),
        Stat("bp_evening", "Evening mean", pressure(s.evening_systolic, s.evening_diastolic),
             _readings(s.evening_n), [s.evening_systolic, s.evening_diastolic]),
        Stat("bp_latest", "Latest reading", pressure(s.latest_systolic, s.latest_diastolic),
             s.latest_category, [s.latest_systolic, s.latest_diastolic]),
    ]


def weight_stats(panel: WeightPanel) -> list[Stat]:
    """Latest 7-day average and the change over the range."""
    t = panel.trend
    if t is None or not len(t.avg7):
        return [Stat("weight_latest", "Weight (7-day average)", NO_VALUE,
                     "no readings in this range")]
    latest = float(t.avg7[-1])
    return [
        Stat("weight_latest", "Weight (7-day average)", number(latest, 1, "kg"),
             f"{len(panel.day):,} days with a weighing", latest),
        Stat("weight_change", "Change over the range", signed(t.change_kg, 1, "kg"),
             signed(t.change_pct, 1, "%").replace(" %", "%"), t.change_kg),
    ]


def _finite_mean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)] if len(values) else values
    return float(values.mean()) if len(values) else None


def heart_stats(panel: HeartPanel) -> list[Stat]:
    """Mean heart rate, resting heart rate and HRV against their usual range."""
    out = [Stat("hr_mean", "Mean heart rate", number(_finite_mean(panel.heart_rate.mean), 0,
                "bpm"), f"{len(panel.heart_rate.day):,} days", _finite_mean(panel.heart_rate.mean))]
    for key, base in (("rhr", panel.resting), ("hrv", panel.hrv)):
        unit = catalog.get(base.metric).canonical_unit
        name = "Resting heart rate" if key == "rhr" else "HRV (SDNN)"
        recent = _finite_mean(base.value[-7:]) if len(base.value) else None
        usual = ""
        if len(base.band.median) and _ok(base.band.q25[-1]):
            usual = (f"usual {number(base.band.q25[-1], 0)}–{number(base.band.q75[-1], 0)} "
                     f"{unit} (previous 90 days)")
        out.append(Stat(f"{key}_7d", f"{name}, last 7 days", number(recent, 0, unit),
                        usual, recent))
    return out


def steps_stats(panel: StepsPanel) -> list[Stat]:
    """Average daily steps after de-duplication."""
    return [Stat("steps_mean", "Daily steps (mean)", number(panel.mean, 0),
                 f"{len(panel.day):,} days · counted once per minute by source priority",
                 panel.mean)]


def sleep_stats(panel: SleepPanel) -> list[Stat]:
    """Mean time asleep per night (stages, never time in bed)."""
    mean = panel.mean_asleep_min
    text = NO_VALUE if not _ok(mean) else f"{int(mean // 60)} h {round(mean % 60):02d} min"
    return [Stat("sleep_mean", "Time asleep (mean per night)", text,
                 f"{len(panel.nights):,} nights", mean)]


def spo2_stats(panel: Spo2Panel) -> list[Stat]:
    """Lowest nightly minimum and mean nightly SpO2."""
    mins = panel.nightly.min[np.isfinite(panel.nightly.min)]
    lowest = float(mins.min()) if len(mins) else None
    mean = _finite_mean(panel.nightly.mean)
    return [
        Stat("spo2_lowest", "Lowest nightly SpO2", number(lowest, 0, "%"),
             f"{len(panel.nightly.night):,} nights · {panel.low_readings:,} readings below 90%",
             lowest),
        Stat("spo2_mean", "Mean nightly SpO2", number(mean, 1, "%"), "", mean),
    ]


def glucose_stats(panel: GlucosePanel | None) -> list[Stat]:
    """Mean, GMI, CV and time in ranges (2019 consensus)."""
    if panel is None:
        return []
    s, t = panel.summary, panel.tir
    return [
        Stat("glucose_mean", "Mean glucose", number(s.mean, 0, "mg/dL"),
             f"{s.n:,} readings · {panel.agp.days} days", s.mean),
        Stat("gmi", "GMI", number(s.gmi, 1, "%"), "Bergenstal 2018", s.gmi),
        Stat("cv", "Coefficient of variation", number(s.cv, 1, "%"),
             "stable (≤ 36%)" if s.cv_stable else "unstable (> 36%)", s.cv),
        Stat("tir", "Time in range 70–180 mg/dL", number(t.in_range, 1, "%"),
             "target > 70%" + (" · met" if t.met.get("in_range") else " · not met"), t.in_range),
        Stat("tbr", "Below 70 mg/dL", number(t.below_70, 1, "%"),
             f"below 54: {number(t.below_54, 1, '%')} · target < 4% (< 1% below 54)",
             t.below_70),
        Stat("tar", "Above 180 mg/dL", number(t.above_180, 1, "%"),
             f"above 250: {number(t.above_250, 1, '%')} · target < 25% (< 5% above 250)",
             t.above_180),
    ]


# The formatter of each panel of `data.panels.PANELS`, by the same names.
STATS = {"blood_pressure": bp_stats, "weight": weight_stats, "heart": heart_stats,
         "steps": steps_stats, "sleep": sleep_stats, "spo2": spo2_stats,
         "glucose": glucose_stats}
