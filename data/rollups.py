"""Hourly and daily rollups from raw observations: pure functions over numpy arrays.

Buckets are the person's wall-clock hours and days (each sample carries its own UTC offset,
so travel and DST land on the right local day). Cumulative metrics (steps, distance,
energy) and sleep are spread over UTC minutes; in every minute only the best-priority
source counts, which is how a Watch and an iPhone counting the same walk add up once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

HOUR = 3600
DAY = 86400
# A night belongs to the local date it ends: sleep from 18:00 onwards counts for tomorrow.
NIGHT_SHIFT_S = 6 * HOUR
NUMERIC = -1

RollupKind = Literal["instant", "cumulative", "interval", "category"]
ROLLUP_COLUMNS = (
    "category", "bucket", "utc_start", "utc_offset_min", "n", "sum", "min", "max", "mean",
    "source_id",
)


@dataclass(frozen=True)
class RawRows:
    """Columns of raw observations of one patient and metric."""

    start: np.ndarray
    end: np.ndarray
    offset_min: np.ndarray
    value: np.ndarray
    source_id: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def compute(
    rows: RawRows, kind: RollupKind, priority: dict[int, int], resolution: Literal["hour", "day"]
) -> pd.DataFrame:
    """Rollup rows (columns `ROLLUP_COLUMNS`) for every bucket the raw rows reach."""
    if len(rows) == 0:
        return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
    width = HOUR if resolution == "hour" else DAY
    if kind == "cumulative":
        return _cumulative(rows, priority, width)
    if kind == "category":
        return _category(rows, priority, width)
    return _instant(rows, width)


def _instant(rows: RawRows, width: int) -> pd.DataFrame:
    local = rows.start + rows.offset_min.astype(np.int64) * 60
    df = pd.DataFrame(
        {"bucket": local // width * width, "start": rows.start, "off": rows.offset_min,
         "value": rows.value}
    )
    g = df.sort_values("start").groupby("bucket", sort=True)
    out = g["value"].agg(["count", "sum", "min", "max", "mean"]).rename(columns={"count": "n"})
    first = g[["start", "off"]].first()
    out["utc_offset_min"] = first["off"]
    out["utc_start"] = out.index.to_numpy() - first["off"].to_numpy().astype(np.int64) * 60
    out["category"] = NUMERIC
    out["source_id"] = None
    return out.reset_index()[list(ROLLUP_COLUMNS)]


def spread_over_minutes(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each UTC minute each interval touches: (row index, minute number, seconds, share).

    `share` is the fraction of the interval inside that minute (1 for zero-length samples).
    """
    start = start.astype(np.int64)
    end = np.maximum(end.astype(np.int64), start)
    m0 = start // 60
    m1 = np.maximum((end - 1) // 60, m0)
    counts = m1 - m0 + 1
    row = np.repeat(np.arange(len(start)), counts)
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    minute = m0[row] + step
    seg = np.minimum(end[row], (minute + 1) * 60) - np.maximum(start[row], minute * 60)
    seg = np.clip(seg, 0, 60)
    duration = (end - start)[row]
    share = np.where(duration > 0, seg / np.where(duration > 0, duration, 1), 1.0)
    return row, minute, seg, share


def _winners(row: np.ndarray, minute: np.ndarray, rows: RawRows, priority: dict[int, int]):
    """Mask of the (row, minute) pieces whose source has the best priority in that minute."""
    src = rows.source_id[row].astype(np.int64)
    prio = np.fromiter((priority.get(int(s), 100) for s in src), dtype=np.int64, count=len(src))
    rank = prio * 1_000_000 + src  # equal priorities: the lower source id wins, deterministically
    best = pd.Series(rank).groupby(minute).transform("min").to_numpy()
    return rank == best


def _cumulative(rows: RawRows, priority: dict[int, int], width: int) -> pd.DataFrame:
    row, minute, _seg, share = spread_over_minutes(rows.start, rows.end)
    keep = _winners(row, minute, rows, priority)
    row, minute, share = row[keep], minute[keep], share[keep]
    off = rows.offset_min[row].astype(np.int64)
    df = pd.DataFrame(
        {"minute": minute, "local": minute * 60 + off * 60, "off": off,
         "src": rows.source_id[row], "amount": rows.value[row] * share}
    )
    per_minute = df.groupby("minute", sort=True).agg(
        local=("local", "first"), off=("off", "first"), amount=("amount", "sum")
    )
    per_minute["bucket"] = per_minute["local"] // width * width
    g = per_minute.groupby("bucket", sort=True)
    out = g["amount"].agg(["count", "sum", "min", "max"]).rename(columns={"count": "n"})
    out["mean"] = out["sum"] / out["n"]
    first_min = g.apply(lambda b: b.index[0], include_groups=False)
    out["utc_start"] = first_min.to_numpy() * 60
    out["utc_offset_min"] = g["off"].first()
    df["bucket"] = df["local"] // width * width
    by_source = df.groupby(["bucket", "src"])["amount"].sum().reset_index()
    top = by_source.sort_values("amount", ascending=False).drop_duplicates("bucket")
    out["source_id"] = top.set_index("bucket")["src"].reindex(out.index)
    out["category"] = NUMERIC
    return out.reset_index()[list(ROLLUP_COLUMNS)]


def _category(rows: RawRows, priority: dict[int, int], width: int) -> pd.DataFrame:
    """Minutes per stage; InBed (0) is de-duplicated on its own, never mixed with stages."""
    parts = []
    stage = rows.value.astype(np.int64)
    for mask in (stage == 0, stage != 0):
        if not mask.any():
            continue
        sub = RawRows(*(getattr(rows, f)[mask] for f in RawRows.__dataclass_fields__))
        row, minute, seg, _share = spread_over_minutes(sub.start, sub.end)
        keep = _winners(row, minute, sub, priority) & (seg > 0)
        row, minute, seg = row[keep], minute[keep], seg[keep]
        off = sub.offset_min[row].astype(np.int64)
        local = minute * 60 + off * 60
        shift = NIGHT_SHIFT_S if width == DAY else 0
        parts.append(pd.DataFrame(
            {"bucket": (local + shift) // width * width, "category": sub.value[row].astype(int),
             "utc": minute * 60, "off": off, "src": sub.source_id[row], "minutes": seg / 60.0}
        ))
    df = pd.concat(parts, ignore_index=True)
    g = df.groupby(["bucket", "category"], sort=True)
    out = g["minutes"].agg(["count", "sum"]).rename(columns={"count": "n"})
    out["min"] = out["max"] = out["mean"] = out["sum"]
    out["utc_start"] = g["utc"].min()
    out["utc_offset_min"] = g["off"].first()
    top = df.groupby(["bucket", "category", "src"])["minutes"].sum().reset_index()
    top = top.sort_values("minutes", ascending=False).drop_duplicates(["bucket", "category"])
    out["source_id"] = top.set_index(["bucket", "category"])["src"].reindex(out.index)
    return out.reset_index()[list(ROLLUP_COLUMNS)]


def local_day(ts: int, offset_min: int) -> int:
    """Local-midnight epoch (wall clock) of the day containing a UTC instant."""
    return (ts + offset_min * 60) // DAY * DAY
