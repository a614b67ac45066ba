"""Numpy work for figures: compact encodings plotly.js reads, and the sums behind them.

Values go out as typed arrays, times as date strings (see `local_dates` for why). A list
of 2,000 floats costs about 40 KB of JSON and a json.dumps call per number; the same
points as base64 little-endian bytes cost 11 KB (float32) and one encode. plotly.js
(≥ 2.28) decodes `{"dtype": ..., "bdata": ...}` wherever it accepts a data array.
"""

from __future__ import annotations

import base64
from typing import Literal

import numpy as np

TypedDtype = Literal["f8", "f4", "i4", "u4", "i2", "u2", "i1", "u1"]
TypedArray = dict[str, str]

_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def typed(arr: np.ndarray, dtype: TypedDtype = "f8") -> TypedArray:
    """`arr` cast to `dtype` and encoded as a plotly.js typed array.

    The byte order is fixed to little-endian because that is what browsers' typed arrays
    read, whatever machine built the figure.
    """
    data = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    if data.ndim != 1:
        raise ValueError(f"typed arrays here are one-dimensional, got shape {data.shape}")
    return {"dtype": dtype, "bdata": base64.b64encode(data.tobytes()).decode("ascii")}


def local_dates(t_local: np.ndarray) -> list[str]:
    """Local wall-clock epoch seconds as zone-less ISO strings for a plotly date axis.

    Strings, not epoch milliseconds: plotly.js reads a number on a date axis through
    `new Date(ms)` and shows it in the *browser's* time zone (checked in Chromium with
    plotly.js 3.7: 08:00 sent as ms shows as 03:00 in New York), which would move daily
    buckets to the previous evening. A zone-less string is shown exactly as written. The
    coarsest unit that is still exact keeps the JSON small ("2024-03-01" for days).
    """
    seconds = np.asarray(t_local, dtype=np.int64)
    if not (seconds % _DAY).any():
        unit = "D"
    elif not (seconds % _HOUR).any():
        unit = "h"
    elif not (seconds % _MINUTE).any():
        unit = "m"
    else:
        unit = "s"
    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit=unit).tolist()


def data_extent(*arrays: np.ndarray | None) -> tuple[float, float]:
    """The finite range of the arrays with 5 % padding, e.g. to size open reference bands."""
    values = np.concatenate([a[np.isfinite(a)] for a in arrays if a is not None])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 1.0
    return lo - pad, hi + pad


def rolling_mean(t: np.ndarray, value: np.ndarray, window_s: int, step_s: int) -> np.ndarray:
    """Trailing mean over (t - window_s, t], NaN until a whole window has been covered.

    The window is in time, not points, so a "7-day average" stays a 7-day average across
    missing days; on gap-free data at `step_s` spacing it equals a rolling mean over
    window_s / step_s points. NaN values are skipped.
    """
    t = np.maximum.accumulate(np.asarray(t, dtype=np.int64))  # a zone change can step back
    finite = np.isfinite(value)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, value, 0.0))))
    counts = np.concatenate(([0], np.cumsum(finite)))
    end = np.arange(1, len(t) + 1)
    start = np.searchsorted(t, t - window_s, side="right")
    n = counts[end] - counts[start]
    mean = np.full(len(t), np.nan)
    full = (n > 0) & (t - t[0] >= window_s - step_s)
    mean[full] = (sums[end] - sums[start])[full] / n[full]
    return mean


def typed_matrix(arr: np.ndarray, dtype: TypedDtype = "f8") -> TypedArray:
    """A two-dimensional array (a heatmap's z) as a plotly.js typed array with its shape.

    Rows first, as plotly.js reads `shape` "rows, columns"; NaN stays NaN, a blank cell.
    """
    data = np.asarray(arr)
    if data.ndim != 2:
        raise ValueError(f"a typed matrix is two-dimensional, got shape {data.shape}")
    return {**typed(data.ravel(), dtype), "shape": f"{data.shape[0]}, {data.shape[1]}"}
