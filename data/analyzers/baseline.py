"""Personal baselines: a person compared with their own recent past, not with a population.

Resting heart rate, HRV and weight differ so much between people that population ranges
say little about one person (AHA on resting heart rate; no population range exists for
HRV). The usual method, and the one docs/CLINICAL.md prescribes, is a rolling median and
interquartile range over the previous 60–90 days, excluding the day shown so that a
change cannot hide in its own baseline.
"""

from dataclasses import dataclass

import numpy as np

from data.analyzers._common import DAY_S, as_float, mean_or_nan, sample_sd


@dataclass(frozen=True)
class Baseline:
    """Per day: median, 25th and 75th percentile of the previous `window_days` days.

    NaN where fewer than `min_days` prior values exist. Percentiles are numpy's default
    linear method.
    """

    day: np.ndarray
    median: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    n: np.ndarray | None = None


def baseline_band(
    day: np.ndarray,
    value: np.ndarray,
    *,
    window_days: int = 90,
    min_days: int = 14,
) -> Baseline:
    """Rolling baseline band over days [d − window_days, d − 1], never including day d.

    `day` is local-day epoch seconds, one value per day, sorted ascending; NaN values are
    skipped and do not count towards `min_days`. `n` holds the number of values used.
    """
    d = as_float(day)
    v = as_float(value)
    if d.size != v.size:
        raise ValueError("day and value must have the same length")
    if d.size and np.any(np.diff(d) < 0):
        raise ValueError("day must be sorted ascending")
    ok = np.isfinite(v)
    known_d, known_v = d[ok], v[ok]
    lo = np.searchsorted(known_d, d - window_days * DAY_S, side="left")
    hi = np.searchsorted(known_d, d, side="left")
    out = np.full((3, d.size), np.nan)
    counts = (hi - lo).astype(np.int64)
    for i in np.flatnonzero(counts >= max(min_days, 1)):
        out[:, i] = np.percentile(known_v[lo[i]:hi[i]], (50, 25, 75))
    return Baseline(day=d, median=out[0], q25=out[1], q75=out[2], n=counts)


@dataclass(frozen=True)
class BaselineComparison:
    """A recent window's mean against the person's baseline window just before it.

    `deviation_sd` = (recent_mean − base_mean) / base_sd, a z-score in baseline SDs; NaN
    when there is no recent value, too few baseline values or a zero baseline SD. The
    baseline statistics are NaN when fewer than `min_days` baseline values exist; `base_n`
    still reports how many there were.
    """

    recent_mean: float
    recent_n: int
    base_median: float
    base_q25: float
    base_q75: float
    base_mean: float
    base_sd: float
    base_n: int
    deviation_sd: float
    recent_days: int = 7
    window_days: int = 90


def personal_baseline(
    day: np.ndarray,
    value: np.ndarray,
    *,
    as_of_day: int,
    recent_days: int = 7,
    window_days: int = 90,
    min_days: int = 14,
) -> BaselineComparison:
    """Mean of days [as_of − recent_days + 1, as_of] vs the `window_days` days before them.

    Baseline SD is the sample SD (n − 1) of daily values. Days need not be sorted.
    """
    d = as_float(day)
    v = as_float(value)
    if d.size != v.size:
        raise ValueError("day and value must have the same length")
    ok = np.isfinite(v) & np.isfinite(d)
    d, v = d[ok], v[ok]
    recent_start = as_of_day - (recent_days - 1) * DAY_S
    recent = v[(d >= recent_start) & (d <= as_of_day)]
    base = v[(d >= recent_start - window_days * DAY_S) & (d < recent_start)]
    recent_mean = mean_or_nan(recent)
    nan = float("nan")
    if base.size >= max(min_days, 1):
        median, q25, q75 = (float(x) for x in np.percentile(base, (50, 25, 75)))
        base_mean, base_sd = float(np.mean(base)), sample_sd(base)
    else:
        median = q25 = q75 = base_mean = base_sd = nan
    deviation = (
        (recent_mean - base_mean) / base_sd
        if np.isfinite(recent_mean) and np.isfinite(base_sd) and base_sd > 0
        else nan
    )
    return BaselineComparison(
        recent_mean=recent_mean, recent_n=int(recent.size), base_median=median,
        base_q25=q25, base_q75=q75, base_mean=base_mean, base_sd=base_sd,
        base_n=int(base.size), deviation_sd=deviation, recent_days=recent_days,
        window_days=window_days,
    )
