"""Clinical statistics for the patient page, the triage list and the report.

Pure functions over numpy arrays (no I/O): callers pass readings, these return frozen
dataclasses whose arrays hold NaN where there is no value. Times are epoch seconds;
"local" times are wall-clock epoch seconds (the UTC instant plus the person's offset), so
`t_local // 86400 * 86400` is the local day, `t_local % 86400` the local time of day and
`(t_local // 86400 + 3) % 7` the weekday with Monday = 0 (1970-01-01 was a Thursday).

What is computed, and on whose authority
----------------------------------------
- Glucose (`data.analyzers.glucose`, re-exported here): the ambulatory glucose profile
  (5/25/50/75/95th percentiles per time of day; ≥ 14 days and ≥ 70% wear to represent a
  person), time in ranges and their targets (Battelino et al., Diabetes Care 2019), GMI
  (Bergenstal et al., Diabetes Care 2018) and CV ≤ 36% as stable (Danne et al., Diabetes
  Care 2017).
- Personal baselines (`data.analyzers.baseline`): rolling median and IQR of the previous
  90 days excluding the day shown, and a recent-week mean as a z-score against the
  baseline (docs/CLINICAL.md).
- Blood pressure (here): categories of the 2017 ACC/AHA guideline (Whelton et al.,
  Hypertension 2018), via `data.reference_ranges`; the reading takes the higher category of
  its two numbers. Morning and evening means follow home-monitoring guidance that asks for
  readings morning and evening and judges their averages over ≥ 7 days (Muntner et al.,
  AHA scientific statement on BP measurement, Hypertension 2019;73:e35–e66; Stergiou et
  al., 2021 ESH practice guidelines for office and out-of-office BP measurement,
  J Hypertens 2021;39:1293–1302).
- Weight: a trailing 7-day mean, which smooths day-to-day swings from fluid and meals.
- Nightly SpO2 and the weekday × hour matrix are plain groupings, no thresholds.
- Triage flags (`data.analyzers.flags`): thresholds and their sources live there.

Percentiles are numpy's default linear interpolation throughout (R type 7).
"""

from dataclasses import dataclass, field

import numpy as np

from data.analyzers._common import DAY_S, HOUR_S, as_float, in_band, local_day, mean_or_nan
from data.analyzers.baseline import (
    Baseline,
    BaselineComparison,
    baseline_band,
    personal_baseline,
)
from data.analyzers.flags import Flag, severity_rank, triage_flags
from data.analyzers.glucose import (
    Agp,
    GlucoseSummary,
    TimeInRanges,
    agp,
    glucose_cv,
    glucose_summary,
    gmi,
    time_in_ranges,
)
from data.reference_ranges import BP_CATEGORY_ORDER, BP_DIASTOLIC, BP_SYSTOLIC

__all__ = [
    "Agp", "Baseline", "BaselineComparison", "BpSummary", "Flag", "GlucoseSummary",
    "Nightly", "TimeInRanges", "WeightTrend", "agp", "baseline_band", "bp_categories",
    "bp_summary", "glucose_cv", "glucose_summary", "gmi", "nightly", "personal_baseline",
    "severity_rank", "time_in_ranges", "triage_flags", "weekday_hour", "weight_trend",
]

# Home BP windows, local clock, [start, end) in hours. Guidance defines them by routine,
# not clock: morning = within an hour of waking, after voiding, before breakfast and
# medication; evening = before supper or before bed (Muntner 2019; Stergiou 2021). Wearable
# and cuff exports carry only a timestamp, so these wide clock windows stand in for that
# routine; midday readings (12:00–17:59) and 00:00–03:59 count in neither.
BP_MORNING_HOURS = (4, 12)
BP_EVENING_HOURS = (18, 24)
BP_SOURCE = BP_SYSTOLIC.source

WEIGHT_AVERAGE_DAYS = 7


def bp_categories(systolic: np.ndarray, diastolic: np.ndarray) -> np.ndarray:
    """Index into `BP_CATEGORY_ORDER` for each reading (−1 where a number is not finite).

    Vectorised twin of `data.catalog.bp_category`: the higher category of the two wins.
    """
    s, d = as_float(systolic), as_float(diastolic)
    out = np.full(s.shape, -1, dtype=np.int64)
    for values, ref in ((s, BP_SYSTOLIC), (d, BP_DIASTOLIC)):
        for band in ref.bands:
            idx = BP_CATEGORY_ORDER.index(band.label)
            out = np.where(in_band(values, band), np.maximum(out, idx), out)
    out[~(np.isfinite(s) & np.isfinite(d))] = -1
    return out


@dataclass(frozen=True)
class BpSummary:
    """Blood pressure over a range, in mmHg; means NaN and counts 0 where there are none.

    `category_share` maps every label of `BP_CATEGORY_ORDER`, in that order, to the percent
    of readings in it (NaN for all when there are no readings). `latest_*` describe the
    reading with the latest time (`latest_category` is "" when there is none).
    """

    n: int
    mean_systolic: float
    mean_diastolic: float
    morning_n: int
    morning_systolic: float
    morning_diastolic: float
    evening_n: int
    evening_systolic: float
    evening_diastolic: float
    category_share: dict[str, float] = field(hash=False)
    latest_t: float
    latest_systolic: float
    latest_diastolic: float
    latest_category: str
    source: str = BP_SOURCE


def bp_summary(t_local: np.ndarray, systolic: np.ndarray, diastolic: np.ndarray) -> BpSummary:
    """Means overall, in the morning (04:00–11:59) and evening (18:00–23:59) windows, the
    share of readings per ACC/AHA category and the latest reading. Readings with a missing
    number are dropped whole."""
    t, s, d = as_float(t_local), as_float(systolic), as_float(diastolic)
    ok = np.isfinite(t) & np.isfinite(s) & np.isfinite(d)
    t, s, d = t[ok], s[ok], d[ok]
    n = int(t.size)
    hour = np.mod(t, DAY_S) // HOUR_S
    morning = (hour >= BP_MORNING_HOURS[0]) & (hour < BP_MORNING_HOURS[1])
    evening = (hour >= BP_EVENING_HOURS[0]) & (hour < BP_EVENING_HOURS[1])
    cats = bp_categories(s, d)
    share = {
        label: (100.0 * int(np.count_nonzero(cats == i)) / n if n else float("nan"))
        for i, label in enumerate(BP_CATEGORY_ORDER)
    }
    nan = float("nan")
    if n:
        last = int(np.argmax(t))  # first of equal maxima: deterministic
        latest = (float(t[last]), float(s[last]), float(d[last]), BP_CATEGORY_ORDER[cats[last]])
    else:
        latest = (nan, nan, nan, "")
    return BpSummary(
        n=n, mean_systolic=mean_or_nan(s), mean_diastolic=mean_or_nan(d),
        morning_n=int(morning.sum()), morning_systolic=mean_or_nan(s[morning]),
        morning_diastolic=mean_or_nan(d[morning]),
        evening_n=int(evening.sum()), evening_systolic=mean_or_nan(s[evening]),
        evening_diastolic=mean_or_nan(d[evening]),
        category_share=share, latest_t=latest[0], latest_systolic=latest[1],
        latest_diastolic=latest[2], latest_category=latest[3],
    )


@dataclass(frozen=True)
class WeightTrend:
    """Per local day with readings: the trailing 7-day mean (kg) of readings in [d − 6, d].

    `change_kg` = last 7-day mean − first 7-day mean; `change_pct` relative to the first.
    Both NaN with fewer than two readings.
    """

    day: np.ndarray
    avg7: np.ndarray
    n7: np.ndarray
    change_kg: float
    change_pct: float


def weight_trend(day: np.ndarray, kg: np.ndarray) -> WeightTrend:
    """Trailing 7-day mean weight and the change over the range.

    `day` may be local-day epoch seconds or local reading times (floored to the day);
    several readings on one day all count in the mean.
    """
    dd, w = local_day(as_float(day)), as_float(kg)
    ok = np.isfinite(dd) & np.isfinite(w)
    dd, w = dd[ok], w[ok]
    order = np.argsort(dd, kind="stable")
    dd, w = dd[order], w[order]
    days = np.unique(dd)
    csum = np.concatenate(([0.0], np.cumsum(w)))
    lo = np.searchsorted(dd, days - (WEIGHT_AVERAGE_DAYS - 1) * DAY_S, side="left")
    hi = np.searchsorted(dd, days, side="right")
    n7 = hi - lo
    avg7 = (csum[hi] - csum[lo]) / np.maximum(n7, 1)
    if w.size >= 2:
        change = float(avg7[-1] - avg7[0])
        pct = 100.0 * change / float(avg7[0]) if avg7[0] else float("nan")
    else:
        change = pct = float("nan")
    return WeightTrend(day=days, avg7=avg7, n7=n7.astype(np.int64), change_kg=change,
                       change_pct=pct)


@dataclass(frozen=True)
class Nightly:
    """One row per night: `night` is the local day (epoch s) on which the night ends."""

    night: np.ndarray
    min: np.ndarray
    mean: np.ndarray
    n: np.ndarray


def nightly(
    t_local: np.ndarray,
    value: np.ndarray,
    *,
    start_hour: int = 22,
    end_hour: int = 8,
) -> Nightly:
    """Minimum, mean and count of readings from `start_hour` (inclusive) to `end_hour`
    (exclusive) local time, per night. A reading at 23:00 on 3 March belongs to the night
    of 4 March; one at 07:59 on 4 March too; 08:00 belongs to no night."""
    if not (0 <= start_hour < 24 and 0 <= end_hour <= 24) or start_hour == end_hour:
        raise ValueError(f"bad night window {start_hour}–{end_hour}")
    t, v = as_float(t_local), as_float(value)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    tod = np.mod(t, DAY_S)
    start, end = start_hour * HOUR_S, end_hour * HOUR_S
    if start > end:  # the window crosses midnight
        evening = tod >= start
        inside = evening | (tod < end)
    else:
        evening = np.zeros(t.shape, dtype=bool)
        inside = (tod >= start) & (tod < end)
    night = local_day(t) + np.where(evening, DAY_S, 0)
    night, v = night[inside], v[inside]
    nights, inverse, counts = np.unique(night, return_inverse=True, return_counts=True)
    mins = np.full(nights.size, np.inf)
    np.minimum.at(mins, inverse, v)
    sums = np.bincount(inverse, weights=v, minlength=nights.size)
    return Nightly(night=nights, min=mins, mean=sums / np.maximum(counts, 1),
                   n=counts.astype(np.int64))


def weekday_hour(t_local: np.ndarray, value: np.ndarray, *, how: str = "mean") -> np.ndarray:
    """7 × 24 matrix, rows Monday … Sunday, columns local hour 0–23.

    `how`: "mean" (NaN for an empty cell), "sum" or "count" (0 for an empty cell). NaN
    values are ignored.
    """
    if how not in ("mean", "sum", "count"):
        raise ValueError(f"how must be 'mean', 'sum' or 'count', got {how!r}")
    t, v = as_float(t_local), as_float(value)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    weekday = (np.floor_divide(t, DAY_S).astype(np.int64) + 3) % 7
    hour = (np.mod(t, DAY_S) // HOUR_S).astype(np.int64)
    cell = weekday * 24 + hour
    counts = np.bincount(cell, minlength=168).astype(np.float64)
    if how == "count":
        return counts.reshape(7, 24)
    sums = np.bincount(cell, weights=v, minlength=168)
    if how == "sum":
        return sums.reshape(7, 24)
    means = np.full(168, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means.reshape(7, 24)
