"""Hourly and daily rollups from raw observations: pure numpy over columns.

Buckets are the person's wall-clock hours and days (each sample carries its own UTC offset,
so travel and DST land on the right local day). Cumulative metrics (steps, distance,
energy) and sleep are spread over UTC minutes; in every minute only the best-priority
source counts, which is how a Watch and an iPhone counting the same walk add up once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

HOUR = 3600
DAY = 86400
# A night belongs to the local date it ends: sleep from 18:00 onwards counts for tomorrow.
NIGHT_SHIFT_S = 6 * HOUR
NUMERIC = -1
NO_SOURCE = -1

RollupKind = Literal["instant", "cumulative", "interval", "category"]


@dataclass(frozen=True)
class RawRows:
    """Columns of raw observations of one patient and metric, ordered by start."""

    start: np.ndarray
    end: np.ndarray
    offset_min: np.ndarray
    value: np.ndarray
    source_id: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def subset(self, mask: np.ndarray) -> RawRows:
        """The rows where mask is true."""
        return RawRows(*(getattr(self, f.name)[mask] for f in fields(self)))


@dataclass(frozen=True)
class Rollup:
    """One row per (category, bucket); `source_id` is NO_SOURCE where none is recorded."""

    category: np.ndarray
    bucket: np.ndarray
    utc_start: np.ndarray
    utc_offset_min: np.ndarray
    n: np.ndarray
    sum: np.ndarray
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray
    source_id: np.ndarray

    def __len__(self) -> int:
        return len(self.bucket)

    def within(self, lo: int, hi: int) -> Rollup:
        """Only the buckets in [lo, hi)."""
        mask = (self.bucket >= lo) & (self.bucket < hi)
        return Rollup(*(getattr(self, f.name)[mask] for f in fields(self)))


def compute(
    rows: RawRows, kind: RollupKind, priority: dict[int, int], resolution: Literal["hour", "day"]
) -> Rollup:
    """Rollup rows for every bucket the raw rows reach."""
    width = HOUR if resolution == "hour" else DAY
    if len(rows) == 0:
        return _empty()
    if kind == "cumulative":
        return _cumulative(rows, priority, width)
    if kind == "category":
        return _category(rows, priority, width)
    return _instant(rows, width)


def compute_hour_and_day(
    rows: RawRows, kind: RollupKind, priority: dict[int, int]
) -> tuple[Rollup, Rollup]:
    """`compute` at both resolutions, equal to two calls of it; cumulative and category
    metrics spread their rows over minutes and pick the winning source once for both."""
    if len(rows) == 0:
        return _empty(), _empty()
    if kind == "cumulative":
        minutes = _cumulative_minutes(rows, priority)
        return (_cumulative_buckets(rows, minutes, HOUR),
                _cumulative_buckets(rows, minutes, DAY))
    if kind == "category":
        pieces = _category_pieces(rows, priority)
        return _category_buckets(pieces, HOUR), _category_buckets(pieces, DAY)
    return _instant(rows, HOUR), _instant(rows, DAY)


def _empty() -> Rollup:
    i, f = np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    return Rollup(i, i, i, i, i, f, f, f, f, i)


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable order by key, the start index of each group in that order, and group sizes."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    return order, starts, sizes


def _instant(rows: RawRows, width: int) -> Rollup:
    off = rows.offset_min.astype(np.int64)
    bucket = (rows.start + off * 60) // width * width
    order, starts, sizes = _groups(bucket)
    value = rows.value[order]
    total = np.add.reduceat(value, starts)
    return Rollup(
        category=np.full(len(starts), NUMERIC, dtype=np.int64),
        bucket=bucket[order][starts],
        utc_start=bucket[order][starts] - off[order][starts] * 60,
        utc_offset_min=off[order][starts],
        n=sizes,
        sum=total,
        min=np.minimum.reduceat(value, starts),
        max=np.maximum.reduceat(value, starts),
        mean=total / sizes,
        source_id=np.full(len(starts), NO_SOURCE, dtype=np.int64),
    )


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
    ids = np.unique(src)
    prio = np.array([priority.get(int(s), 100) for s in ids], dtype=np.int64)
    # equal priorities: the lower source id wins, deterministically
    rank = (prio * 1_000_000 + ids)[np.searchsorted(ids, src)]
    order = np.lexsort((rank, minute))
    m_sorted = minute[order]
    first = np.r_[True, m_sorted[1:] != m_sorted[:-1]]
    best_sorted = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    best = np.empty_like(rank)
    best[order] = rank[order][best_sorted]
    return rank == best


def _top_source(bucket: np.ndarray, src: np.ndarray, amount: np.ndarray,
                buckets: np.ndarray) -> np.ndarray:
    """Per bucket (of the sorted, unique `buckets`), the source that contributed most."""
    slot = np.searchsorted(buckets, bucket)
    sources, src_index = np.unique(src, return_inverse=True)
    totals = np.zeros((len(buckets), len(sources)))
    np.add.at(totals, (slot, src_index.ravel()), amount)
    return sources[np.argmax(totals, axis=1)]


def _cumulative(rows: RawRows, priority: dict[int, int], width: int) -> Rollup:
    return _cumulative_buckets(rows, _cumulative_minutes(rows, priority), width)


def _cumulative_minutes(rows: RawRows, priority: dict[int, int]) -> tuple[np.ndarray, ...]:
    """The winning (row, minute) pieces and their amounts, and one value per minute."""
    row, minute, _seg, share = spread_over_minutes(rows.start, rows.end)
    keep = _winners(row, minute, rows, priority)
    row, minute, share = row[keep], minute[keep], share[keep]
    off = rows.offset_min[row].astype(np.int64)
    amount = rows.value[row] * share
    # one value per minute (a source may have two samples meeting inside a minute)
    order, starts, _sizes = _groups(minute)
    per_minute = np.add.reduceat(amount[order], starts)
    m_minute = minute[order][starts]
    m_off = off[order][starts]
    return row, minute, off, amount, per_minute, m_minute, m_off


def _cumulative_buckets(rows: RawRows, minutes: tuple[np.ndarray, ...], width: int) -> Rollup:
    row, minute, off, amount, per_minute, m_minute, m_off = minutes
    bucket = (m_minute * 60 + m_off * 60) // width * width
    b_order, b_starts, b_sizes = _groups(bucket)
    vals = per_minute[b_order]
    total = np.add.reduceat(vals, b_starts)
    buckets = bucket[b_order][b_starts]
    piece_bucket = (minute * 60 + off * 60) // width * width
    return Rollup(
        category=np.full(len(b_starts), NUMERIC, dtype=np.int64),
        bucket=buckets,
        utc_start=m_minute[b_order][b_starts] * 60,
        utc_offset_min=m_off[b_order][b_starts],
        n=b_sizes,
        sum=total,
        min=np.minimum.reduceat(vals, b_starts),
        max=np.maximum.reduceat(vals, b_starts),
        mean=total / b_sizes,
        source_id=_top_source(piece_bucket, rows.source_id[row].astype(np.int64), amount,
                              buckets),
    )


def _category(rows: RawRows, priority: dict[int, int], width: int) -> Rollup:
    """Minutes per stage; InBed (0) is de-duplicated on its own, never mixed with stages."""
    return _category_buckets(_category_pieces(rows, priority), width)


def _category_pieces(rows: RawRows, priority: dict[int, int]) -> list[tuple[np.ndarray, ...]]:
    """Winning (minute, offset, stage, source, minutes) pieces, InBed and stages apart."""
    stage_all = rows.value.astype(np.int64)
    pieces = []
    for mask in (stage_all == 0, stage_all != 0):
        if not mask.any():
            continue
        sub = rows.subset(mask)
        row, minute, seg, _share = spread_over_minutes(sub.start, sub.end)
        keep = _winners(row, minute, sub, priority) & (seg > 0)
        row, minute, seg = row[keep], minute[keep], seg[keep]
        off = sub.offset_min[row].astype(np.int64)
        pieces.append((minute, off, sub.value[row].astype(np.int64),
                       sub.source_id[row].astype(np.int64), seg / 60.0))
    return pieces


def _category_buckets(found: list[tuple[np.ndarray, ...]], width: int) -> Rollup:
    """Category rollups of `_category_pieces` at one resolution."""
    # A night belongs to the local date it ends: shifted by NIGHT_SHIFT_S for days.
    shift = NIGHT_SHIFT_S if width == DAY else 0
    pieces = [((minute * 60 + off * 60 + shift) // width * width, stage, minute * 60, off, src,
               minutes) for minute, off, stage, src, minutes in found]
    if not pieces:
        return _empty()
    bucket, stage, utc, off, src, minutes = (np.concatenate(p) for p in zip(*pieces, strict=True))
    key = bucket * 16 + stage  # stages are 0-5: one integer key per (bucket, stage)
    order, starts, sizes = _groups(key)
    total = np.add.reduceat(minutes[order], starts)
    groups = key[order][starts]
    return Rollup(
        category=groups % 16,
        bucket=groups // 16,
        utc_start=np.minimum.reduceat(utc[order], starts),
        utc_offset_min=off[order][starts],
        n=sizes,
        sum=total, min=total, max=total, mean=total,
        source_id=_top_source(key, src, minutes, groups),
    )
