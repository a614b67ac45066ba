"""Writes: idempotent bulk upsert of observations and maintenance of the rollups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, insert, select, text, update

from data import catalog
from data import schema as s
from data.repository.base import (
    RepositoryBase,
    columns,
    fetch_driver_rows,
    insert_rows,
    now_ts,
)
from data.rollups import DAY, NO_SOURCE, RawRows, Rollup, compute

# (metric, start_ts, end_ts, utc_offset_min, value, source name)
Row = tuple[str, int, int, int, float, str]
# metric -> [(first local midnight, local midnight after the last day)]
Windows = dict[str, list[tuple[int, int]]]
# Days apart beyond which touched days are recomputed as separate windows.
WINDOW_GAP_DAYS = 7
# Raw rows read around a window so intervals and offsets crossing its edges are complete.
MARGIN_S = 2 * DAY

_OBS_COLUMNS = "patient_id, metric, start_ts, source_id, end_ts, utc_offset_min, value"


@dataclass(frozen=True)
class ObservationBatch:
    """Rows for one patient; `source_kinds` names the kind of each source (watch, phone...)."""

    patient_id: int
    rows: list[Row]
    source_kinds: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpsertResult:
    """What a write did: rows new to the database, rows already there, rollup days redone."""

    inserted: int
    duplicates: int
    days_recomputed: int
    inserted_by_metric: dict[str, int] = field(default_factory=dict)


class WriteMixin(RepositoryBase):
    """Observation writes."""

    def upsert_observations(
        self, batch: ObservationBatch, deferred: Windows | None = None
    ) -> UpsertResult:
        """Store a batch once, however often it is sent, and refresh the rollups it touches.

        The batch is validated first: a bad row raises ValueError naming the row and
        nothing of the batch is stored. Rollups are refreshed only for metrics that gained
        rows, so re-importing a file costs little more than reading it. A bulk import passes
        `deferred`: the windows of *every* row are added to it and the caller refreshes them
        once at the end (`refresh_rollups`), also when a re-run inserts nothing new.
        """
        if not batch.rows:
            return UpsertResult(0, 0, 0)
        cols = _validated_columns(batch.rows)
        ids = self.source_ids(  # type: ignore[attr-defined]
            batch.patient_id, {n: batch.source_kinds.get(n, "other") for n in set(cols.source)}
        )
        pid = batch.patient_id
        metrics = np.array(cols.metric)
        source_id = np.fromiter(map(ids.__getitem__, cols.source), dtype=np.int64,
                                count=len(metrics))
        by_metric: dict[str, int] = {}
        with self.engine.begin() as conn:
            for metric in np.unique(metrics).tolist():
                idx = np.flatnonzero(metrics == metric)
                by_metric[metric] = self._insert_ignoring_duplicates(conn, zip(
                    repeat(pid, len(idx)), repeat(metric, len(idx)), cols.start[idx].tolist(),
                    source_id[idx].tolist(), cols.end[idx].tolist(), cols.offset[idx].tolist(),
                    cols.value[idx].tolist(), strict=True,
                ))
            inserted = sum(by_metric.values())
            days = 0
            if deferred is not None:
                merge_windows(deferred, _touched_days(cols))
                if inserted:
                    self._bump_version(conn, pid)
            elif inserted:
                windows = _touched_days(cols)
                days = self._refresh_rollups(
                    conn, pid, {m: w for m, w in windows.items() if by_metric.get(m)}
                )
                self._bump_version(conn, pid)
        return UpsertResult(inserted, len(batch.rows) - inserted, days, by_metric)

    def _insert_ignoring_duplicates(self, conn: Connection, values: Iterable[tuple]) -> int:
        raw = conn.connection.driver_connection
        if self.sqlite:
            before = raw.total_changes
            raw.executemany(
                f"INSERT OR IGNORE INTO observations ({_OBS_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                values,
            )
            return raw.total_changes - before
        with raw.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS observations_stage "
                "(LIKE observations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cur.copy(f"COPY observations_stage ({_OBS_COLUMNS}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO observations ({_OBS_COLUMNS}) SELECT {_OBS_COLUMNS} "
                "FROM observations_stage ON CONFLICT DO NOTHING"
            )
            inserted = cur.rowcount
            cur.execute("TRUNCATE observations_stage")
            return inserted

    def recompute_rollups(
        self, patient_id: int, progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None, metrics: list[str] | None = None,
    ) -> int:
        """Rebuild every rollup of a patient from raw data, month by month (a repair tool).

        Returns the number of days recomputed; stops early (keeping finished months) when
        `cancelled()` turns true.
        """
        with self.engine.connect() as conn:
            bounds = conn.execute(text(
                "SELECT metric, min(start_ts + utc_offset_min * 60), "
                "max(end_ts + utc_offset_min * 60) FROM observations "
                "WHERE patient_id = :p GROUP BY metric"
            ), {"p": patient_id}).all()
        windows = [
            (metric, day, min(day + 31 * DAY, hi // DAY * DAY + DAY))
            for metric, lo, hi in bounds if metrics is None or metric in metrics
            for day in range(lo // DAY * DAY, hi // DAY * DAY + DAY, 31 * DAY)
        ]
        done = 0
        for i, (metric, lo, hi) in enumerate(windows):
            if cancelled is not None and cancelled():
                break
            with self.engine.begin() as conn:
                done += self._refresh_rollups(conn, patient_id, {metric: [(lo, hi)]})
                self._bump_version(conn, patient_id)
            if progress is not None:
                progress(i + 1, len(windows))
        return done

    def refresh_rollups(self, patient_id: int, windows: Windows,
                        progress: Callable[[int, int], None] | None = None) -> int:
        """Recompute the rollups of the given local-day windows (after a deferred import)."""
        done = 0
        # month-sized pieces: memory stays bounded however long the file's span
        items = [(m, (lo, min(lo + 31 * DAY, hi)))
                 for m, spans in windows.items() for start, hi in spans
                 for lo in range(start, hi, 31 * DAY)]
        for i, (metric, span) in enumerate(items, start=1):
            with self.engine.begin() as conn:
                done += self._refresh_rollups(conn, patient_id, {metric: [span]})
                self._bump_version(conn, patient_id)
            if progress is not None:
                progress(i, len(items))
        return done

    def _refresh_rollups(
        self, conn: Connection, patient_id: int, windows: dict[str, list[tuple[int, int]]]
    ) -> int:
        days = 0
        for metric, spans in windows.items():
            priority = self.source_priorities(patient_id, metric)  # type: ignore[attr-defined]
            kind = catalog.get(metric).kind
            for lo, hi in spans:
                rows = _read_raw(conn, patient_id, metric, lo - MARGIN_S, hi + MARGIN_S)
                for table, res in ((s.rollup_hourly, "hour"), (s.rollup_daily, "day")):
                    rollup = compute(rows, kind, priority, res).within(lo, hi)
                    _replace_rollups(conn, table, patient_id, metric, lo, hi, rollup)
                days += (hi - lo) // DAY
        return days

    def _bump_version(self, conn: Connection, patient_id: int) -> None:
        table = s.data_versions
        updated = conn.execute(
            update(table).where(table.c.patient_id == patient_id).values(
                version=table.c.version + 1, updated_ts=now_ts()
            )
        ).rowcount
        if not updated:
            conn.execute(insert(table).values(patient_id=patient_id, version=1,
                                              updated_ts=now_ts()))

    def data_version(self, patient_id: int) -> int:
        """Counter bumped by every write of a patient's data (cache keys include it)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(s.data_versions.c.version).where(
                    s.data_versions.c.patient_id == patient_id
                )
            ).scalar() or 0


@dataclass(frozen=True)
class _Columns:
    metric: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray
    offset: np.ndarray
    value: np.ndarray
    source: tuple[str, ...]


def _validated_columns(rows: list[Row]) -> _Columns:
    """The batch as columns, or ValueError naming the first bad row and what is wrong."""
    widths = {len(r) for r in rows}
    if widths != {6}:
        i = next(i for i, r in enumerate(rows) if len(r) != 6)
        raise ValueError(f"row {i}: expected 6 fields, got {len(rows[i])}: {rows[i]!r}")
    metric, start, end, offset, value, source = zip(*rows, strict=True)
    for code in set(metric):
        try:
            catalog.get(code)
        except ValueError as exc:
            raise ValueError(f"row {metric.index(code)}: {exc}") from exc
    try:
        cols = _Columns(
            metric, np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64),
            np.asarray(offset, dtype=np.int64), np.asarray(value, dtype=np.float64), source,
        )
    except (TypeError, ValueError, OverflowError) as exc:
        bad = _first_non_numeric(rows)
        raise ValueError(f"row {bad}: not a number where one is expected: {rows[bad]!r}") from exc
    checks = (
        (cols.end < cols.start, "ends before it starts"),
        (np.abs(cols.offset) > 16 * 60, "has an impossible UTC offset"),
        (~np.isfinite(cols.value), "has a value that is not a finite number"),
    )
    for bad, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"row {i} ({metric[i]}) {what}: {rows[i]!r}")
    if not all(source):
        i = source.index(next(x for x in source if not x))
        raise ValueError(f"row {i} ({metric[i]}) has no source: {rows[i]!r}")
    return cols


def _first_non_numeric(rows: list[Row]) -> int:
    for i, row in enumerate(rows):
        try:
            [int(row[1]), int(row[2]), int(row[3]), float(row[4])]
        except (TypeError, ValueError, OverflowError):
            return i
    return 0


def _touched_days(cols: _Columns) -> dict[str, list[tuple[int, int]]]:
    """Per metric, merged windows [local midnight, local midnight) that the rows reach.

    One extra day each side covers nights that end the next morning; windows closer than
    `WINDOW_GAP_DAYS` are merged so each is read once.
    """
    frame = pd.DataFrame({
        "metric": cols.metric,
        "d0": (cols.start + cols.offset * 60) // DAY - 1,
        "d1": (cols.end + cols.offset * 60) // DAY + 2,
    })
    spans = frame.groupby(["metric", "d0"], sort=True)["d1"].max().reset_index()
    windows: dict[str, list[tuple[int, int]]] = {}
    for metric, part in spans.groupby("metric"):
        merged: list[list[int]] = []
        for d0, d1 in zip(part["d0"].tolist(), part["d1"].tolist(), strict=True):
            if merged and d0 <= merged[-1][1] + WINDOW_GAP_DAYS:
                merged[-1][1] = max(merged[-1][1], d1)
            else:
                merged.append([d0, d1])
        windows[str(metric)] = [(a * DAY, b * DAY) for a, b in merged]
    return windows


def _read_raw(conn: Connection, patient_id: int, metric: str, lo: int, hi: int) -> RawRows:
    result = fetch_driver_rows(
        conn,
        "SELECT start_ts, end_ts, utc_offset_min, value, source_id FROM observations "
        "WHERE patient_id = %s AND metric = %s AND start_ts >= %s AND start_ts < %s "
        "ORDER BY start_ts",
        (patient_id, metric, lo, hi),
    )
    start, end, off, value, source = columns(result, 5)
    return RawRows(
        start.astype(np.int64), end.astype(np.int64), off.astype(np.int64), value,
        source.astype(np.int64),
    )


def _replace_rollups(
    conn: Connection, table: Table, patient_id: int, metric: str, lo: int, hi: int,
    rollup: Rollup,
) -> None:
    conn.execute(delete(table).where(
        table.c.patient_id == patient_id, table.c.metric == metric,
        table.c.bucket >= lo, table.c.bucket < hi,
    ))
    if not len(rollup):
        return
    source = [None if s == NO_SOURCE else s for s in rollup.source_id.tolist()]
    values = zip(
        repeat(patient_id, len(rollup)), repeat(metric, len(rollup)),
        rollup.category.tolist(), rollup.bucket.tolist(), rollup.utc_start.tolist(),
        rollup.utc_offset_min.tolist(), rollup.n.tolist(), rollup.sum.tolist(),
        rollup.min.tolist(), rollup.max.tolist(), rollup.mean.tolist(), source, strict=True,
    )
    insert_rows(conn, table.name, (
        "patient_id", "metric", "category", "bucket", "utc_start", "utc_offset_min", "n", "sum",
        "min", "max", "mean", "source_id"), values)


def merge_windows(into: Windows, new: Windows) -> None:
    """Add windows, merging those that touch or are close (`WINDOW_GAP_DAYS`)."""
    gap = WINDOW_GAP_DAYS * DAY
    for metric, spans in new.items():
        merged: list[list[int]] = []
        for lo, hi in sorted([*into.get(metric, []), *spans]):
            if merged and lo <= merged[-1][1] + gap:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        into[metric] = [(lo, hi) for lo, hi in merged]
