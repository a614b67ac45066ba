"""Small helpers shared by the analyzers: day arithmetic and vectorised reference bands."""

import numpy as np

from data.reference_ranges import ReferenceBand

DAY_S = 86_400
HOUR_S = 3_600


def as_float(values: np.ndarray | list[float]) -> np.ndarray:
    """`values` as a 1-D float64 array (no copy when it already is one)."""
    return np.asarray(values, dtype=np.float64).reshape(-1)


def local_day(t_local: np.ndarray) -> np.ndarray:
    """Local-day epoch seconds (midnight) of wall-clock epoch seconds."""
    return np.floor_divide(t_local, DAY_S) * DAY_S


def in_band(values: np.ndarray, band: ReferenceBand) -> np.ndarray:
    """Boolean mask of `values` inside `band`, with the same end rules as
    `ReferenceBand.contains` (NaN is in no band)."""
    mask = np.isfinite(values)
    if band.low is not None:
        mask &= values >= band.low if band.low_inclusive else values > band.low
    if band.high is not None:
        mask &= values <= band.high if band.high_inclusive else values < band.high
    return mask


def sample_sd(values: np.ndarray) -> float:
    """Sample standard deviation (n − 1 denominator); NaN on fewer than two values."""
    return float(np.std(values, ddof=1)) if values.size >= 2 else float("nan")


def mean_or_nan(values: np.ndarray) -> float:
    """Arithmetic mean, NaN for an empty array (without numpy's empty-slice warning)."""
    return float(np.mean(values)) if values.size else float("nan")
