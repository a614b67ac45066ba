"""Reads: chart series at the right resolution, and the numbers on KPI cards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, text

from data import catalog
from data.access import Principal
from data.downsample import select_indices
from data.queries import Resolution, SeriesQuery
from data.repository.base import RepositoryBase, columns, fetch_driver_rows, now_ts
from data.rollups import DAY, HOUR, NUMERIC

log = logging.getLogger(__name__)
T = TypeVar("T")

# A resolution is used when it yields at most this many rows per point the chart can show;
# MinMaxLTTB then keeps the extremes of the surplus.
ROWS_PER_POINT = 6


@dataclass(frozen=True)
class Series:
    """Points of one metric, oldest first; `t_local` is the wall clock where the person was."""

    metric: str
    unit: str
    resolution: Resolution
    t_utc: np.ndarray
    t_local: np.ndarray
    value: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    source: list[str] | None
    rows_read: int

    def __len__(self) -> int:
        return len(self.t_utc)


@dataclass(frozen=True)
class Summary:
    """A KPI card: latest value, 7-day average and its change against the 30 days before."""

    metric: str
    name: str
    unit: str
    latest: float | None
    latest_ts: int | None
    avg_7d: float | None
    avg_prev_30d: float | None

    @property
    def change(self) -> float | None:
        """7-day average minus the previous 30 days' average."""
        if self.avg_7d is None or self.avg_prev_30d is None:
            return None
        return self.avg_7d - self.avg_prev_30d


class ReadMixin(RepositoryBase):
    """Series and summaries, always through `authorize`."""

    def series(self, principal: Principal, query: SeriesQuery) -> Series:
        """The points of a chart: raw, hourly or daily by range, never over max_points."""
        return self.view(principal, query, "series", lambda series: series)

    def view(self, principal: Principal, query: SeriesQuery, tag: str,
             build: Callable[[Series], T]) -> T:
        """`build(series)` for a query, cached under the query and the patient's data version.

        Charts cache the figure they build from a series this way, so a cache hit costs one
        version lookup and one cache read: no query, no figure building.
        """
        self.authorize(principal, query.patient_id)  # type: ignore[attr-defined]
        metric = catalog.get(query.metric)
        with self.engine.connect() as conn:
            version = fetch_driver_rows(
                conn, "SELECT version FROM data_versions WHERE patient_id = %s",
                (query.patient_id,))
            key = f"{query.cache_key(version[0][0] if version else 0)}:{tag}"
            if self.cache is not None:
                hit = self.cache.get(key)
                if hit is not None:
                    return hit
            resolution = query.resolution
            if resolution == "auto":
                resolution = self._choose_resolution(conn, query, metric)
            result = build(self._fetch(conn, query, metric, resolution))
        if self.cache is not None:
            self.cache.set(key, result)
        return result

    def _choose_resolution(self, conn: Connection, q: SeriesQuery, metric) -> Resolution:
        lo, hi = q.start_ts, q.end_ts
        if lo is None or hi is None:
            bounds = conn.execute(text(
                "SELECT min(utc_start), max(utc_start) FROM rollup_daily "
                "WHERE patient_id = :p AND metric = :m"
            ), {"p": q.patient_id, "m": q.metric}).one()
            lo = lo if lo is not None else (bounds[0] or 0)
            hi = hi if hi is not None else (bounds[1] or 0) + DAY
        span = max(hi - lo, 1)
        budget = (q.max_points or 10**9) * ROWS_PER_POINT
        if metric.kind == "category":
            return "day"
        if metric.kind != "cumulative" and span / metric.typical_interval_s <= budget:
            return "raw"
        if span / HOUR <= budget:
            return "hour"
        return "day"

    def _fetch(self, conn: Connection, q: SeriesQuery, metric, res: Resolution) -> Series:
        lo = q.start_ts if q.start_ts is not None else -(2**62)
        hi = q.end_ts if q.end_ts is not None else 2**62
        names = (self.source_names(q.patient_id)  # type: ignore[attr-defined]
                 if metric.kind == "cumulative" or res == "raw" else {})
        table = "rollup_hourly" if res == "hour" else "rollup_daily"
        # Local buckets lie within a day of their UTC start; bounding them uses the index.
        bucket_range = "AND bucket >= %s AND bucket < %s AND utc_start >= %s AND utc_start < %s "
        window = (lo - DAY, hi + DAY, lo, hi)
        if res == "raw":
            rows = fetch_driver_rows(conn, (
                "SELECT start_ts, utc_offset_min, value, value, value, source_id "
                "FROM observations WHERE patient_id = %s AND metric = %s "
                "AND start_ts >= %s AND start_ts < %s ORDER BY start_ts"
            ), (q.patient_id, q.metric, lo, hi))
        elif metric.kind == "category":
            rows = fetch_driver_rows(conn, (
                "SELECT min(utc_start), min(utc_offset_min), sum(sum), sum(sum), sum(sum), NULL "
                f"FROM {table} WHERE patient_id = %s AND metric = %s "
                f"AND category IN (1, 3, 4, 5) {bucket_range}GROUP BY bucket ORDER BY bucket"
            ), (q.patient_id, q.metric, *window))
        else:
            column = "sum" if metric.aggregation == "sum" else "mean"
            source = "source_id" if metric.kind == "cumulative" else "NULL"
            rows = fetch_driver_rows(conn, (
                f"SELECT utc_start, utc_offset_min, {column}, min, max, {source} FROM {table} "
                f"WHERE patient_id = %s AND metric = %s AND category = %s {bucket_range}"
                "ORDER BY bucket"
            ), (q.patient_id, q.metric, NUMERIC, *window))
        return _to_series(q, metric, res, rows, names)

    def summaries(
        self, principal: Principal, patient_id: int, metrics: list[str], now: int | None = None
    ) -> list[Summary]:
        """KPI cards for the given metrics, days counted in the patient's own time zone."""
        patient = self.patient(principal, patient_id)  # type: ignore[attr-defined]
        now = now if now is not None else now_ts()
        zone = ZoneInfo(patient.timezone)
        local_now = datetime.fromtimestamp(now, zone)
        today = (now + int(local_now.utcoffset().total_seconds())) // DAY * DAY
        with self.engine.connect() as conn:
            daily = conn.execute(text(
                "SELECT metric, bucket, sum(CASE WHEN category IN (-1, 1, 3, 4, 5) THEN sum END),"
                " sum(CASE WHEN category = -1 THEN mean END) FROM rollup_daily "
                "WHERE patient_id = :p AND bucket >= :lo AND bucket <= :hi "
                "GROUP BY metric, bucket"
            ), {"p": patient_id, "lo": today - 36 * DAY, "hi": today}).all()
            cards = []
            for code in metrics:
                metric = catalog.get(code)
                days = {b: (tot if metric.aggregation in ("sum", "stage_minutes") else mean)
                        for m, b, tot, mean in daily if m == code}
                recent = [v for b, v in days.items() if b > today - 7 * DAY and v is not None]
                prior = [v for b, v in days.items() if b <= today - 7 * DAY and v is not None]
                latest = self._latest(conn, patient_id, metric, days)
                cards.append(Summary(
                    code, metric.name, metric.canonical_unit, latest[0], latest[1],
                    float(np.mean(recent)) if recent else None,
                    float(np.mean(prior)) if prior else None,
                ))
        return cards

    def _latest(self, conn: Connection, patient_id: int, metric, days) -> tuple:
        if metric.kind in ("cumulative", "category"):
            if not days:
                return None, None
            bucket = max(days)
            return days[bucket], bucket
        row = conn.execute(text(
            "SELECT value, start_ts FROM observations WHERE patient_id = :p AND metric = :m "
            "ORDER BY start_ts DESC LIMIT 1"
        ), {"p": patient_id, "m": metric.code}).first()
        return (row[0], row[1]) if row else (None, None)


def _to_series(q: SeriesQuery, metric, res: Resolution, rows: list, names: dict) -> Series:
    t, off, val, low, high = columns(rows, 5)
    t = t.astype(np.int64)
    keep = select_indices(t, val, q.max_points) if q.max_points else np.arange(len(t))
    sources = None
    if metric.kind == "cumulative" or res == "raw":
        sources = [names.get(rows[i][5], "") if rows[i][5] is not None else "" for i in keep]
    rolled = res != "raw"
    return Series(
        metric=metric.code,
        unit=metric.canonical_unit,
        resolution=res,
        t_utc=t[keep],
        t_local=(t + off.astype(np.int64) * 60)[keep],
        value=val[keep],
        low=low[keep] if rolled else None,
        high=high[keep] if rolled else None,
        source=sources,
        rows_read=len(rows),
    )


@dataclass(frozen=True)
class SleepNights:
    """Minutes per sleep stage for each night (dated by the local day it ends)."""

    nights: np.ndarray
    minutes: dict[int, np.ndarray]


class SleepMixin(RepositoryBase):
    """Nightly sleep stage totals."""

    def sleep_nights(
        self, principal: Principal, patient_id: int, start_ts: int | None, end_ts: int | None
    ) -> SleepNights:
        """Per night and stage, the de-duplicated minutes (InBed kept apart as stage 0)."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT bucket, category, sum FROM rollup_daily WHERE patient_id = :p "
                "AND metric = 'sleep_stage' AND utc_start >= :lo AND utc_start < :hi "
                "ORDER BY bucket"
            ), {"p": patient_id, "lo": start_ts if start_ts is not None else -(2**62),
                "hi": end_ts if end_ts is not None else 2**62}).all()
        nights = np.array(sorted({r[0] for r in rows}), dtype=np.int64)
        index = {night: i for i, night in enumerate(nights.tolist())}
        minutes: dict[int, np.ndarray] = {}
        for bucket, category, total in rows:
            minutes.setdefault(int(category), np.zeros(len(nights)))[index[bucket]] = total
        return SleepNights(nights, minutes)
