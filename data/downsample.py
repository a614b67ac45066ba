"""Downsampling that keeps the shape a person would see: MinMaxLTTB.

MinMax preselection keeps every peak and trough, LTTB then picks the visually important
points; the result never exceeds the requested count.
"""

from __future__ import annotations

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

_DOWNSAMPLER = MinMaxLTTBDownsampler()


def select_indices(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most `max_points` points of (x, y), x sorted ascending; all when few."""
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    idx = _DOWNSAMPLER.downsample(
        np.ascontiguousarray(x, dtype=np.int64),
        np.ascontiguousarray(y, dtype=np.float64),
        n_out=max_points,
    )
    return np.asarray(idx[:max_points], dtype=np.int64)
