"""The triage figures of one patient, from daily values and a few raw readings.

Pure: the repository fetches `TriageInputs` from the rollups (and the benchmark's baseline
from raw observations), this module turns them into the row the clinic list shows. Every
window is anchored on the patient's latest data (as Tidepool's clinic summaries are), so
the figures only change when data arrives; how long ago that was is computed when the list
is read ("days without data") and flagged then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from data import catalog
from data.analyzers.clinical import (
    Flag,
    personal_baseline,
    time_in_ranges,
    triage_flags,
    weight_trend,
)

DAY = 86400
# Windows, in local days ending with the day of the latest data.
BP_DAYS = 7
RHR_RECENT_DAYS = 7
RHR_BASELINE_DAYS = 90
WEIGHT_DAYS = 30
SPO2_DAYS = 7
# The consensus reports time in range over the most recent 14 days of CGM data.
GLUCOSE_DAYS = 14
# How far back the repository must read daily values for these windows.
HISTORY_DAYS = RHR_RECENT_DAYS + RHR_BASELINE_DAYS + 1
TRIAGE_METRICS = ("resting_heart_rate", "body_mass", "spo2")


@dataclass(frozen=True)
class Daily:
    """One value per local day (epoch seconds of local midnight), oldest first."""

    day: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class TriageInputs:
    """What the triage row is computed from, all in the patient's local time."""

    last_data_local: int | None
    daily_mean: dict[str, Daily] = field(default_factory=dict)
    spo2_daily_min: Daily | None = None
    bp_t_local: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    bp_systolic: np.ndarray = field(default_factory=lambda: np.array([]))
    bp_diastolic: np.ndarray = field(default_factory=lambda: np.array([]))
    glucose: np.ndarray = field(default_factory=lambda: np.array([]))


def as_of_day(last_data_local: int | None) -> int | None:
    """Local midnight of the day of the latest data."""
    return None if last_data_local is None else last_data_local // DAY * DAY


def _num(value) -> float | None:
    """A JSON-safe float: None for NaN/None, rounded to what a list can show."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 3)


def _window(daily: Daily | None, day: int, days: int) -> np.ndarray:
    if daily is None or len(daily.day) == 0:
        return np.array([])
    keep = (daily.day > day - days * DAY) & (daily.day <= day)
    values = daily.value[keep]
    return values[~np.isnan(values)]


def compute(inputs: TriageInputs) -> dict:
    """The stored triage figures (JSON-ready) and the flags that do not depend on today."""
    day = as_of_day(inputs.last_data_local)
    stats: dict = {"as_of_day": day, "bp": None, "rhr": None, "weight": None,
                   "spo2_min_7d": None, "tir": None, "flags": []}
    if day is None:
        return stats
    latest_bp = mean_bp = None
    if len(inputs.bp_t_local):
        sys_, dia = float(inputs.bp_systolic[-1]), float(inputs.bp_diastolic[-1])
        band = catalog.bp_category(sys_, dia)
        latest_bp = (sys_, dia)
        # the BP_DAYS local days ending with `day`
        recent = (inputs.bp_t_local >= day - (BP_DAYS - 1) * DAY) & (inputs.bp_t_local < day + DAY)
        stats["bp"] = {"latest": [_num(sys_), _num(dia)], "latest_local":
                       int(inputs.bp_t_local[-1]), "category": band.label,
                       "severity": band.severity, "mean_7d": None, "n_7d": int(recent.sum())}
        if recent.any():
            mean_bp = (float(inputs.bp_systolic[recent].mean()),
                       float(inputs.bp_diastolic[recent].mean()))
            stats["bp"]["mean_7d"] = [_num(mean_bp[0]), _num(mean_bp[1])]
    rhr = None
    rhr_daily = inputs.daily_mean.get("resting_heart_rate")
    if rhr_daily is not None and len(rhr_daily.day):
        rhr = personal_baseline(rhr_daily.day, rhr_daily.value, as_of_day=day,
                                recent_days=RHR_RECENT_DAYS, window_days=RHR_BASELINE_DAYS)
        if rhr.recent_n:
            stats["rhr"] = {
                "recent_mean": _num(rhr.recent_mean), "recent_n": int(rhr.recent_n),
                "base_median": _num(rhr.base_median), "base_q25": _num(rhr.base_q25),
                "base_q75": _num(rhr.base_q75), "deviation_sd": _num(rhr.deviation_sd),
            }
        else:
            rhr = None
    change_30 = change_7 = latest_kg = None
    weight = inputs.daily_mean.get("body_mass")
    if weight is not None and len(_window(weight, day, WEIGHT_DAYS)):
        keep = (weight.day > day - WEIGHT_DAYS * DAY) & (weight.day <= day)
        trend = weight_trend(weight.day[keep], weight.value[keep])
        change_30 = _num(trend.change_kg)
        keep7 = (weight.day > day - 7 * DAY) & (weight.day <= day)
        if keep7.sum() >= 2:
            change_7 = _num(weight_trend(weight.day[keep7], weight.value[keep7]).change_kg)
        latest_kg = _num(weight.value[keep][-1])
        stats["weight"] = {"latest": latest_kg, "change_30d": change_30,
                           "change_7d": change_7}
    spo2 = _window(inputs.spo2_daily_min, day, SPO2_DAYS)
    if len(spo2):
        stats["spo2_min_7d"] = _num(spo2.min())
    tir = None
    if len(inputs.glucose):
        tir = time_in_ranges(inputs.glucose)
        stats["tir"] = {"in_range": _num(tir.in_range), "below_70": _num(tir.below_70),
                        "below_54": _num(tir.below_54), "above_180": _num(tir.above_180),
                        "n": int(tir.n)}
    flags = triage_flags(
        latest_bp=latest_bp, bp_mean_7d=mean_bp, rhr=rhr,
        weight_change_kg_30d=change_30, weight_change_kg_7d=change_7,
        spo2_min_7d=stats["spo2_min_7d"], tir=tir, weight_kg=latest_kg,
    )
    stats["flags"] = [flag_dict(f) for f in flags]
    return stats


def flag_dict(flag: Flag) -> dict:
    """A flag as stored."""
    return {"code": flag.code, "severity": flag.severity, "label": flag.label,
            "detail": flag.detail}


def freshness_flags(days_without_data: float | None) -> list[dict]:
    """Flags that depend on today: no data for days (or none at all)."""
    return [flag_dict(f) for f in triage_flags(days_without_data=days_without_data)]
