"""Continuous glucose monitoring (CGM) statistics: AGP, time in ranges, GMI and CV.

Sources
-------
- Battelino T et al., Clinical targets for continuous glucose monitoring data
  interpretation: recommendations from the International Consensus on Time in Range,
  Diabetes Care 2019;42(8):1593–1603. Ranges (< 54, 54–69, 70–180, 181–250, > 250 mg/dL),
  targets (> 70% in range, < 4% below 70, < 1% below 54, < 25% above 180, < 5% above 250),
  the AGP as the standard report, and "14 days with at least 70% of possible readings" for
  data that represents a person's glucose.
- Danne T et al., International consensus on use of continuous glucose monitoring,
  Diabetes Care 2017;40(12):1631–1640: coefficient of variation ≤ 36% as "stable".
- Bergenstal RM et al., Glucose Management Indicator (GMI), Diabetes Care
  2018;41(11):2275–2280: GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL).

Range boundaries are not repeated here: they come from `data.reference_ranges.GLUCOSE`, so
the chart bands and these shares can never disagree.
"""

from dataclasses import dataclass, field

import numpy as np

from data.analyzers._common import DAY_S, as_float, in_band, mean_or_nan, sample_sd
from data.reference_ranges import GLUCOSE

# Consensus minimum for a representative AGP (Battelino 2019).
AGP_MIN_DAYS = 14
AGP_MIN_WEAR = 0.70
AGP_PERCENTILES = (5, 25, 50, 75, 95)

# Coefficient of variation at or under which glucose is "stable" (Danne 2017; Battelino 2019).
CV_STABLE_MAX = 36.0

# GMI regression (Bergenstal 2018), GMI in % (NGSP) from mean glucose in mg/dL.
GMI_INTERCEPT = 3.31
GMI_SLOPE = 0.02392

# Time-in-range targets (Battelino 2019): key -> (share field, comparison, limit in %).
# ">" means the share must exceed the limit, "<" that it must stay under it; both strict,
# as the consensus writes them (exactly 70% in range does not meet "> 70%").
TIR_TARGETS: dict[str, tuple[str, str, float]] = {
    "in_range": ("in_range", ">", 70.0),
    "below_70": ("below_70", "<", 4.0),
    "below_54": ("below_54", "<", 1.0),
    "above_180": ("above_180", "<", 25.0),
    "above_250": ("above_250", "<", 5.0),
}
TIR_SOURCE = GLUCOSE.source
TIR_TARGETS_TEXT = f"{GLUCOSE.note} Source: {GLUCOSE.source}."

_VERY_LOW, _LOW, _IN_RANGE, _HIGH, _VERY_HIGH = GLUCOSE.bands


@dataclass(frozen=True)
class Agp:
    """Ambulatory glucose profile: percentiles per time-of-day bin over all days.

    `minute` is each bin's start in minutes after local midnight; the percentile arrays are
    NaN for a bin without readings. Percentiles use numpy's default ("linear") method, the
    same as R's type 7 and spreadsheet PERCENTILE.INC.
    """

    minute: np.ndarray
    p5: np.ndarray
    p25: np.ndarray
    p50: np.ndarray
    p75: np.ndarray
    p95: np.ndarray
    days: int
    wear: float
    representative: bool
    message: str
    n: int = 0


def agp(
    t_local: np.ndarray,
    mg_dl: np.ndarray,
    *,
    bin_minutes: int = 15,
    expected_interval_s: int = 300,
) -> Agp:
    """Fold readings onto one 24 h day and take the 5/25/50/75/95th percentile per bin.

    `wear` is the share of expected readings present between the first and the last
    reading: expected = ⌊(last − first) / expected_interval_s⌋ + 1; present = the number of
    distinct expected slots holding a reading (each reading rounded to its nearest slot, so
    duplicates from two sources count once and a few seconds of jitter do not matter).
    Representative when ≥ 14 distinct local days and ≥ 70% wear (Battelino 2019).
    """
    if bin_minutes <= 0 or 1440 % bin_minutes:
        raise ValueError(f"bin_minutes must divide 1440, got {bin_minutes}")
    if expected_interval_s <= 0:
        raise ValueError(f"expected_interval_s must be positive, got {expected_interval_s}")
    t = as_float(t_local)
    v = as_float(mg_dl)
    keep = np.isfinite(t) & np.isfinite(v)
    t, v = t[keep], v[keep]

    n_bins = 1440 // bin_minutes
    minute = np.arange(n_bins, dtype=np.int64) * bin_minutes
    pct = np.full((len(AGP_PERCENTILES), n_bins), np.nan)
    if v.size:
        # all bins and percentiles at once: sort by (bin, value), then numpy's "linear"
        # rule per bin — position q·(n−1) from the bin's first value, interpolated
        bins = (np.mod(t, DAY_S) // (bin_minutes * 60)).astype(np.int64)
        order = np.lexsort((v, bins))
        bins, sorted_v = bins[order], v[order]
        present, starts, counts = np.unique(bins, return_index=True, return_counts=True)
        q = np.asarray(AGP_PERCENTILES, dtype=float)[:, None] / 100.0
        pos = q * (counts - 1)
        below = np.floor(pos).astype(np.int64)
        frac = pos - below
        lo = starts + below
        hi = starts + np.minimum(below + 1, counts - 1)
        pct[:, present] = sorted_v[lo] + frac * (sorted_v[hi] - sorted_v[lo])

    days = int(np.unique(np.floor_divide(t, DAY_S)).size)
    if t.size:
        first = t.min()
        expected = int((t.max() - first) // expected_interval_s) + 1
        slots = np.unique(np.rint((t - first) / expected_interval_s)).size
        wear = min(1.0, slots / expected)
    else:
        wear = 0.0
    representative = days >= AGP_MIN_DAYS and wear >= AGP_MIN_WEAR
    return Agp(
        minute=minute, p5=pct[0], p25=pct[1], p50=pct[2], p75=pct[3], p95=pct[4],
        days=days, wear=wear, representative=representative,
        message=_agp_message(v.size, days, wear), n=int(v.size),
    )


def _agp_message(n: int, days: int, wear: float) -> str:
    if n == 0:
        return "No glucose readings in this range, so there is no glucose profile."
    reasons = []
    if days < AGP_MIN_DAYS:
        reasons.append(f"only {days} day{'s' if days != 1 else ''} of readings")
    if wear < AGP_MIN_WEAR:
        reasons.append(f"sensor wear of only {wear:.0%}")
    if not reasons:
        return ""
    return (
        f"This profile may not represent usual glucose: {' and '.join(reasons)}; the "
        f"international consensus asks for at least {AGP_MIN_DAYS} days with at least "
        f"{AGP_MIN_WEAR:.0%} of expected readings."
    )


@dataclass(frozen=True)
class TimeInRanges:
    """Percent of readings per consensus range, and whether each target is met.

    The five range shares sum to 100 (up to float rounding); `below_70`, `below_54`,
    `above_180` and `above_250` are the cumulative shares the targets are written on.
    Shares are NaN and every `met` is False when there are no readings. `met` keys:
    in_range, below_70, below_54, above_180, above_250 (see `TIR_TARGETS`).
    """

    n: int
    very_low: float
    low: float
    in_range: float
    high: float
    very_high: float
    below_70: float
    below_54: float
    above_180: float
    above_250: float
    met: dict[str, bool] = field(hash=False)
    targets: str = TIR_TARGETS_TEXT
    source: str = TIR_SOURCE

    @property
    def all_met(self) -> bool:
        return self.n > 0 and all(self.met.values())


def time_in_ranges(mg_dl: np.ndarray) -> TimeInRanges:
    """Shares of readings below, in and above range, using the catalog GLUCOSE bands.

    Readings are continuous (mmol/L converted), so 180.5 is high, 250 is still high and
    250.1 very high, exactly as `data.reference_ranges.GLUCOSE` labels them. NaN readings
    are ignored and not counted in `n`.
    """
    v = as_float(mg_dl)
    v = v[np.isfinite(v)]
    n = int(v.size)
    names = ("very_low", "low", "in_range", "high", "very_high")
    bands = (_VERY_LOW, _LOW, _IN_RANGE, _HIGH, _VERY_HIGH)
    if n:
        shares = {
            k: 100.0 * int(np.count_nonzero(in_band(v, b))) / n
            for k, b in zip(names, bands, strict=True)
        }
    else:
        shares = dict.fromkeys(names, float("nan"))
    shares["below_70"] = shares["very_low"] + shares["low"]
    shares["below_54"] = shares["very_low"]
    shares["above_180"] = shares["high"] + shares["very_high"]
    shares["above_250"] = shares["very_high"]
    met = {
        key: bool(n and (shares[attr] > limit if op == ">" else shares[attr] < limit))
        for key, (attr, op, limit) in TIR_TARGETS.items()
    }
    return TimeInRanges(n=n, met=met, **shares)


def gmi(mean_mg_dl: float) -> float:
    """Glucose Management Indicator in % from mean glucose in mg/dL (Bergenstal 2018).

    The consensus recommends reporting it only from ≥ 14 days of CGM data.
    """
    return GMI_INTERCEPT + GMI_SLOPE * float(mean_mg_dl)


def glucose_cv(mg_dl: np.ndarray) -> float:
    """Coefficient of variation in %: sample SD / mean × 100; NaN on fewer than 2 readings.

    Sample SD (n − 1) because the readings are a sample of a continuous signal, and it is
    what standard statistics tools and open CGM-metric packages report; with the thousands
    of readings of a 14-day CGM record the choice changes CV by well under 0.1%.
    """
    v = as_float(mg_dl)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan")
    mean = float(np.mean(v))
    return 100.0 * sample_sd(v) / mean if mean else float("nan")


@dataclass(frozen=True)
class GlucoseSummary:
    """Mean and SD in mg/dL, CV and GMI in %, and whether CV is in the stable range."""

    n: int
    mean: float
    sd: float
    cv: float
    gmi: float
    cv_stable: bool


def glucose_summary(mg_dl: np.ndarray) -> GlucoseSummary:
    """Mean, sample SD, CV, GMI and `cv_stable` (CV ≤ 36%, Danne 2017) of the readings."""
    v = as_float(mg_dl)
    v = v[np.isfinite(v)]
    mean = mean_or_nan(v)
    cv = glucose_cv(v)
    return GlucoseSummary(
        n=int(v.size), mean=mean, sd=sample_sd(v), cv=cv, gmi=gmi(mean),
        cv_stable=bool(cv <= CV_STABLE_MAX),
    )
