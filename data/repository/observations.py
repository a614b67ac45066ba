"""Writes: idempotent bulk upsert of observations and maintenance of the rollups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise, repeat
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, insert, select, text, update

from data import catalog
from data import schema as s
from data.collectors.apple_health_types import RowColumns
from data.repository.base import RepositoryBase, insert_rows, now_ts
from data.rollups import DAY, NO_SOURCE, RawRows, Rollup, compute_hour_and_day

# (metric, start_ts, end_ts, utc_offset_min, value, source name)
Row = tuple[str, int, int, int, float, str]
# metric -> [(first local midnight, local midnight after the last day)]
Windows = dict[str, list[tuple[int, int]]]
# Days apart beyond which touched days are recomputed as separate windows.
WINDOW_GAP_DAYS = 7
# Raw rows read around a window so intervals and offsets crossing its edges are complete.
MARGIN_S = 2 * DAY

_OBS_COLUMNS = "patient_id, metric, start_ts, source_id, end_ts, utc_offset_min, value"
# Computed rollup rows held before they are written in bulk.
_ROLLUP_FLUSH = 50_000
_ROLLUP_COLUMNS = ("patient_id", "metric", "category", "bucket", "utc_start", "utc_offset_min",
                   "n", "sum", "min", "max", "mean", "source_id")
# PostgreSQL binary COPY: signature, flags, header extension length; and the trailer.
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_PG_TRAILER = b"\xff\xff"
# Column types the binary COPY into a table is laid out for (format_type names); a table
# that differs (a later migration) is written with text COPY instead.
_PG_TYPES = {
    "observations": {
        "patient_id": "integer", "metric": "character varying", "start_ts": "bigint",
        "source_id": "integer", "end_ts": "bigint", "utc_offset_min": "smallint",
        "value": "double precision",
    },
    **{table: {
        "patient_id": "integer", "metric": "character varying", "category": "smallint",
        "bucket": "bigint", "utc_start": "bigint", "utc_offset_min": "smallint",
        "n": "integer", "sum": "double precision", "min": "double precision",
        "max": "double precision", "mean": "double precision", "source_id": "integer",
    } for table in ("rollup_hourly", "rollup_daily")},
}


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
        (`refresh_rollups`: the importer does so one batch behind), also when a re-run
        inserts nothing new.

        `batch.rows` is a list of row tuples or, from the import pipeline, `RowColumns`.
        Rows repeated inside the batch count once (the first is kept). On PostgreSQL, rows
        go by binary COPY straight into the table for metrics where no stored row can
        conflict, else through a staging table and ON CONFLICT DO NOTHING.
        """
        if not len(batch.rows):
            return UpsertResult(0, 0, 0)
        cols = _validated_columns(batch.rows)
        ids = self.source_ids(  # type: ignore[attr-defined]
            batch.patient_id, {n: batch.source_kinds.get(n, "other") for n in cols.sources}
        )
        pid = batch.patient_id
        source_id = np.array([ids[n] for n in cols.sources], dtype=np.int64)[cols.source]
        keep, starts = _unique_rows(cols, source_id)
        with self.engine.begin() as conn:
            if self.sqlite:
                by_metric = self._insert_sqlite(conn, pid, cols, source_id, keep, starts)
            else:
                by_metric = self._insert_postgresql(conn, pid, cols, source_id, keep, starts)
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
        return UpsertResult(inserted, len(cols) - inserted, days, by_metric)

    def _insert_sqlite(self, conn: Connection, pid: int, cols: RowColumns,
                       source_id: np.ndarray, keep: np.ndarray, starts: list[int]) -> dict:
        """INSERT OR IGNORE per metric, in primary-key order (the table is clustered by it)."""
        raw = conn.connection.driver_connection
        sql = f"INSERT OR IGNORE INTO observations ({_OBS_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
        by_metric: dict[str, int] = {}
        for a, b in pairwise(starts):
            idx = keep[a:b]
            metric = cols.metrics[cols.metric[idx[0]]]
            before = raw.total_changes
            raw.executemany(sql, zip(
                repeat(pid), repeat(metric), cols.start[idx].tolist(), source_id[idx].tolist(),
                cols.end[idx].tolist(), cols.offset[idx].tolist(), cols.value[idx].tolist(),
            ))
            by_metric[metric] = by_metric.get(metric, 0) + raw.total_changes - before
        return by_metric

    def _insert_postgresql(self, conn: Connection, pid: int, cols: RowColumns,
                           source_id: np.ndarray, keep: np.ndarray, starts: list[int]) -> dict:
        """COPY straight into `observations` for the metrics where no stored row can
        conflict; through a staging table and ON CONFLICT DO NOTHING for the others.

        A metric cannot conflict when the patient has no stored row of it whose start lies
        in the batch's range of starts (the batch itself has no duplicates by now): a first
        import takes the direct path, a re-run or an overlapping later export the careful
        one. Should another writer slip a row in between, the direct COPY fails on the key,
        is rolled back to its savepoint and the careful path runs instead.
        """
        raw = conn.connection.driver_connection
        groups = []  # (metric, row indices in key order)
        for a, b in pairwise(starts):
            idx = keep[a:b]
            groups.append((cols.metrics[cols.metric[idx[0]]], idx))
        by_metric = {metric: 0 for metric, _ in groups}
        with raw.cursor() as cur:
            binary = self._pg_binary_ok(cur, "observations")
            overlapping = self._pg_overlapping(cur, pid, [
                (metric, int(cols.start[idx[0]]), int(cols.start[idx[-1]]))
                for metric, idx in groups])
            direct = [g for g in groups if g[0] not in overlapping]
            careful = [g for g in groups if g[0] in overlapping]
            if direct:
                cur.execute("SAVEPOINT observations_direct")
                try:
                    _copy_observations(cur, "observations", pid, cols, source_id, direct, binary)
                except Exception as exc:
                    if getattr(exc, "sqlstate", None) != "23505":  # unique_violation
                        raise
                    cur.execute("ROLLBACK TO SAVEPOINT observations_direct")
                    careful = groups
                else:
                    cur.execute("RELEASE SAVEPOINT observations_direct")
                    for metric, idx in direct:
                        by_metric[metric] += len(idx)
            if careful:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS observations_stage "
                    "(LIKE observations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                _copy_observations(cur, "observations_stage", pid, cols, source_id, careful,
                                   binary)
                cur.execute(
                    f"WITH added AS (INSERT INTO observations ({_OBS_COLUMNS}) "
                    f"SELECT {_OBS_COLUMNS} FROM observations_stage ON CONFLICT DO NOTHING "
                    "RETURNING metric) SELECT metric, count(*) FROM added GROUP BY metric")
                for metric, n in cur.fetchall():
                    by_metric[metric] += n
                cur.execute("TRUNCATE observations_stage")
        return by_metric

    def _pg_overlapping(self, cur: Any, pid: int, ranges: list[tuple[str, int, int]]) -> set:
        """The metrics of (metric, first start, last start) that have a stored row whose
        start lies in that range (one index probe each, one round trip)."""
        values = ", ".join(["(%s::text, %s::bigint, %s::bigint)"] * len(ranges))
        cur.execute(
            f"SELECT v.m FROM (VALUES {values}) AS v(m, lo, hi) WHERE EXISTS ("
            "SELECT 1 FROM observations o WHERE o.patient_id = %s AND o.metric = v.m "
            "AND o.start_ts BETWEEN v.lo AND v.hi)", [*(x for r in ranges for x in r), pid])
        return {m for (m,) in cur.fetchall()}

    def _pg_binary_ok(self, cur: Any, table: str) -> bool:
        """Whether `table`'s columns have the types the binary COPY writes (asked once)."""
        known: dict[str, bool] = self.__dict__.setdefault("_pg_binary", {})
        if table not in known:
            cur.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,))
            found = dict(cur.fetchall())
            known[table] = all(found.get(c) == t for c, t in _PG_TYPES[table].items())
        return known[table]

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
                        progress: Callable[[int, int], None] | None = None,
                        priorities: dict[str, dict[int, int]] | None = None) -> int:
        """Recompute the rollups of the given local-day windows (after a deferred import).

        One transaction and one version bump for all of them (an import passes a batch's
        worth of days at a time). Raw rows are read and rollups computed in month-sized
        pieces and written in bulk every `_ROLLUP_FLUSH` rows, so memory stays bounded
        however long the span. `priorities` (metric -> source priorities) is a cache the
        caller may keep across calls; it is filled in as metrics are met.
        """
        if not windows:
            return 0
        cache = {} if priorities is None else priorities
        total = sum(len(range(lo, hi, 31 * DAY)) for spans in windows.values()
                    for lo, hi in spans)
        done = finished = 0
        with self.engine.begin() as conn:
            sink = _RollupSink(self, conn, patient_id)
            for metric, spans in windows.items():
                if metric not in cache:
                    cache[metric] = self.source_priorities(  # type: ignore[attr-defined]
                        patient_id, metric)
                for start, hi in spans:
                    self._delete_rollups(conn, patient_id, metric, start, hi)
                    for lo in range(start, hi, 31 * DAY):
                        done += self._refresh_span(conn, sink, patient_id, metric,
                                                   cache[metric], lo, min(lo + 31 * DAY, hi))
                        finished += 1
                        if progress is not None:
                            progress(finished, total)
            sink.flush()
            self._bump_version(conn, patient_id)
        return done

    def _refresh_rollups(
        self, conn: Connection, patient_id: int, windows: dict[str, list[tuple[int, int]]]
    ) -> int:
        days = 0
        sink = _RollupSink(self, conn, patient_id)
        for metric, spans in windows.items():
            priority = self.source_priorities(patient_id, metric)  # type: ignore[attr-defined]
            for lo, hi in spans:
                self._delete_rollups(conn, patient_id, metric, lo, hi)
                days += self._refresh_span(conn, sink, patient_id, metric, priority, lo, hi)
        sink.flush()
        return days

    def _refresh_span(self, conn: Connection, sink: _RollupSink, patient_id: int, metric: str,
                      priority: dict[int, int], lo: int, hi: int) -> int:
        """Compute the rollups of one metric in [lo, hi) (whose old ones are deleted) into
        `sink`. Returns the number of days."""
        kind = catalog.get(metric).kind
        rows = self._read_raw(conn, patient_id, metric, lo - MARGIN_S, hi + MARGIN_S)
        hourly, daily = compute_hour_and_day(rows, kind, priority)
        sink.add(s.rollup_hourly, metric, hourly.within(lo, hi))
        sink.add(s.rollup_daily, metric, daily.within(lo, hi))
        return (hi - lo) // DAY

    def _delete_rollups(self, conn: Connection, patient_id: int, metric: str, lo: int,
                        hi: int) -> None:
        """Delete both rollup tables' buckets of a metric in [lo, hi)."""
        raw = conn.connection.driver_connection
        for table in ("rollup_hourly", "rollup_daily"):
            sql = (f"DELETE FROM {table} WHERE patient_id = %s AND metric = %s "
                   "AND bucket >= %s AND bucket < %s")
            if self.sqlite:
                raw.execute(sql.replace("%s", "?"), (patient_id, metric, lo, hi))
            else:
                with raw.cursor() as cur:
                    cur.execute(sql, (patient_id, metric, lo, hi))

    def _read_raw(self, conn: Connection, patient_id: int, metric: str, lo: int,
                  hi: int) -> RawRows:
        """Raw rows of one metric with lo <= start < hi, ordered by start, as columns."""
        raw = conn.connection.driver_connection
        sql = ("SELECT start_ts, end_ts, utc_offset_min, value, source_id FROM observations "
               "WHERE patient_id = ? AND metric = ? AND start_ts >= ? AND start_ts < ? "
               "ORDER BY start_ts, source_id, end_ts")
        if self.sqlite:
            rows = raw.execute(sql, (patient_id, metric, lo, hi)).fetchall()
            if not rows:
                empty = np.array([], dtype=np.int64)
                return RawRows(empty, empty, empty, np.array([], dtype=np.float64), empty)
            get = [itemgetter(i) for i in range(5)]
            n = len(rows)
            return RawRows(
                np.fromiter(map(get[0], rows), np.int64, n),
                np.fromiter(map(get[1], rows), np.int64, n),
                np.fromiter(map(get[2], rows), np.int64, n),
                np.fromiter(map(get[3], rows), np.float64, n),
                np.fromiter(map(get[4], rows), np.int64, n),
            )
        # One bytea of fixed-width big-endian records, built by the server and read by
        # numpy in one go (a binary COPY would hand the rows over one message each).
        with raw.cursor(binary=True) as cur:
            cur.execute(
                "SELECT string_agg(int8send(start_ts::int8) || int8send(end_ts::int8) || "
                "int2send(utc_offset_min::int2) || float8send(value::float8) || "
                "int4send(source_id::int4), ''::bytea ORDER BY start_ts, source_id, end_ts) "
                "FROM observations WHERE patient_id = %s AND metric = %s "
                "AND start_ts >= %s AND start_ts < %s", (patient_id, metric, lo, hi))
            data = cur.fetchone()[0] or b""
        rec = np.frombuffer(data, _RAW_DTYPE)
        return RawRows(
            rec["start"].astype(np.int64), rec["end"].astype(np.int64),
            rec["offset"].astype(np.int64), rec["value"].astype(np.float64),
            rec["source"].astype(np.int64),
        )

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


# One row of the raw read: the columns' binary send formats, back to back.
_RAW_DTYPE = np.dtype([
    ("start", ">i8"), ("end", ">i8"), ("offset", ">i2"), ("value", ">f8"), ("source", ">i4"),
])


def _binary_rows(fields: list[tuple[str, str | None, Any]], n: int) -> bytes:
    """`n` rows of a binary COPY: (name, big-endian dtype or None for NULL, values) per
    column, in the table's column order."""
    layout: list[tuple[str, str]] = [("count", ">i2")]
    for i, (_name, dtype, _values) in enumerate(fields):
        layout.append((f"len{i}", ">i4"))
        if dtype is not None:
            layout.append((f"col{i}", dtype))
    rec = np.empty(n, np.dtype(layout))
    rec["count"] = len(fields)
    for i, (_name, dtype, values) in enumerate(fields):
        if dtype is None:
            rec[f"len{i}"] = -1
        else:
            rec[f"len{i}"] = np.dtype(dtype).itemsize
            rec[f"col{i}"] = values
    return rec.tobytes()


def _copy_observations(cur: Any, table: str, pid: int, cols: RowColumns, source_id: np.ndarray,
                       groups: list[tuple[str, np.ndarray]], binary: bool) -> None:
    """COPY the rows of `groups` (metric, row indices) into `table`."""
    with cur.copy(f"COPY {table} ({_OBS_COLUMNS}) FROM STDIN"
                  + (" (FORMAT BINARY)" if binary else "")) as copy:
        if binary:
            copy.write(_PG_HEADER)
        for metric, idx in groups:
            if binary:
                name = metric.encode()
                copy.write(_binary_rows([
                    ("patient_id", ">i4", pid), ("metric", f"S{len(name)}", name),
                    ("start_ts", ">i8", cols.start[idx]), ("source_id", ">i4", source_id[idx]),
                    ("end_ts", ">i8", cols.end[idx]), ("utc_offset_min", ">i2", cols.offset[idx]),
                    ("value", ">f8", cols.value[idx]),
                ], len(idx)))
                continue
            for row in zip(repeat(pid), repeat(metric), cols.start[idx].tolist(),
                           source_id[idx].tolist(), cols.end[idx].tolist(),
                           cols.offset[idx].tolist(), cols.value[idx].tolist()):
                copy.write_row(row)
        if binary:
            copy.write(_PG_TRAILER)


def _rollup_binary(patient_id: int, metric: str, rollup: Rollup) -> bytes:
    """The rollup's rows as binary COPY rows (no header or trailer)."""
    name = metric.encode()
    parts = []
    has_source = rollup.source_id != NO_SOURCE
    for mask, dtype in ((has_source, ">i4"), (~has_source, None)):
        n = int(mask.sum())
        if not n:
            continue
        parts.append(_binary_rows([
            ("patient_id", ">i4", patient_id), ("metric", f"S{len(name)}", name),
            ("category", ">i2", rollup.category[mask]), ("bucket", ">i8", rollup.bucket[mask]),
            ("utc_start", ">i8", rollup.utc_start[mask]),
            ("utc_offset_min", ">i2", rollup.utc_offset_min[mask]),
            ("n", ">i4", rollup.n[mask]), ("sum", ">f8", rollup.sum[mask]),
            ("min", ">f8", rollup.min[mask]), ("max", ">f8", rollup.max[mask]),
            ("mean", ">f8", rollup.mean[mask]),
            ("source_id", dtype, rollup.source_id[mask] if dtype else None),
        ], n))
    return b"".join(parts)


class _RollupSink:
    """Computed rollups waiting to be written: one bulk write per table every
    `_ROLLUP_FLUSH` rows instead of one per month piece."""

    def __init__(self, repo: WriteMixin, conn: Connection, patient_id: int) -> None:
        self.repo, self.conn, self.patient_id = repo, conn, patient_id
        self.pending: dict[str, list[tuple[str, Rollup]]] = {}
        self.rows = 0

    def add(self, table: Table, metric: str, rollup: Rollup) -> None:
        if len(rollup):
            self.pending.setdefault(table.name, []).append((metric, rollup))
            self.rows += len(rollup)
            if self.rows >= _ROLLUP_FLUSH:
                self.flush()

    def flush(self) -> None:
        pending, self.pending, self.rows = self.pending, {}, 0
        for table, parts in pending.items():
            self._write(table, parts)

    def _write(self, table: str, parts: list[tuple[str, Rollup]]) -> None:
        pid, conn = self.patient_id, self.conn
        if not self.repo.sqlite:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                if self.repo._pg_binary_ok(cur, table):
                    with cur.copy(f"COPY {table} ({', '.join(_ROLLUP_COLUMNS)}) "
                                  "FROM STDIN (FORMAT BINARY)") as copy:
                        copy.write(_PG_HEADER)
                        for metric, rollup in parts:
                            copy.write(_rollup_binary(pid, metric, rollup))
                        copy.write(_PG_TRAILER)
                    return
        for metric, rollup in parts:
            source = [None if s == NO_SOURCE else s for s in rollup.source_id.tolist()]
            values = zip(
                repeat(pid, len(rollup)), repeat(metric, len(rollup)),
                rollup.category.tolist(), rollup.bucket.tolist(), rollup.utc_start.tolist(),
                rollup.utc_offset_min.tolist(), rollup.n.tolist(), rollup.sum.tolist(),
                rollup.min.tolist(), rollup.max.tolist(), rollup.mean.tolist(), source,
                strict=True,
            )
            insert_rows(conn, table, _ROLLUP_COLUMNS, values)


def _validated_columns(rows: list[Row] | RowColumns) -> RowColumns:
    """The batch as columns, or ValueError naming the first bad row and what is wrong."""
    if isinstance(rows, RowColumns):
        cols = rows
    else:
        widths = {len(r) for r in rows}
        if widths != {6}:
            i = next(i for i, r in enumerate(rows) if len(r) != 6)
            raise ValueError(f"row {i}: expected 6 fields, got {len(rows[i])}: {rows[i]!r}")
        try:
            cols = RowColumns.from_rows(rows)
        except (TypeError, ValueError, OverflowError) as exc:
            bad = _first_non_numeric(rows)
            raise ValueError(
                f"row {bad}: not a number where one is expected: {rows[bad]!r}") from exc
    for code, name in enumerate(cols.metrics):
        try:
            catalog.get(name)
        except ValueError as exc:
            raise ValueError(f"row {int(np.argmax(cols.metric == code))}: {exc}") from exc
    checks = (
        (cols.end < cols.start, "ends before it starts"),
        (np.abs(cols.offset) > 16 * 60, "has an impossible UTC offset"),
        (~np.isfinite(cols.value), "has a value that is not a finite number"),
    )
    for bad, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = cols.row(i)
            raise ValueError(f"row {i} ({row[0]}) {what}: {row!r}")
    for code, name in enumerate(cols.sources):
        if not name or not isinstance(name, str):
            i = int(np.argmax(cols.source == code))
            row = cols.row(i)
            raise ValueError(f"row {i} ({row[0]}) has no source: {row!r}")
    return cols


def _first_non_numeric(rows: list[Row]) -> int:
    for i, row in enumerate(rows):
        try:
            [int(row[1]), int(row[2]), int(row[3]), float(row[4])]
        except (TypeError, ValueError, OverflowError):
            return i
    return 0


def _unique_rows(cols: RowColumns, source_id: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Row indices in primary-key order, each key once (its first row in the batch), and
    the bounds of each metric's run in that order (`starts[i]:starts[i + 1]`)."""
    order = np.lexsort((cols.end, source_id, cols.start, cols.metric))
    keys = (cols.metric[order], cols.start[order], source_id[order], cols.end[order])
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        same = np.ones(len(order) - 1, dtype=bool)
        for key in keys:
            same &= key[1:] == key[:-1]
        new[1:] = ~same
    keep = order[new]
    metric = cols.metric[keep]
    starts = np.flatnonzero(np.r_[True, metric[1:] != metric[:-1]]).tolist()
    return keep, [*starts, len(keep)]


def _touched_days(cols: RowColumns) -> dict[str, list[tuple[int, int]]]:
    """Per metric, merged windows [local midnight, local midnight) that the rows reach.

    One extra day each side covers nights that end the next morning; windows closer than
    `WINDOW_GAP_DAYS` are merged so each is read once.
    """
    d0_all = (cols.start + cols.offset * 60) // DAY - 1
    d1_all = (cols.end + cols.offset * 60) // DAY + 2
    windows: dict[str, list[tuple[int, int]]] = {}
    for code in np.unique(cols.metric).tolist():
        mask = cols.metric == code
        d0, d1 = d0_all[mask], d1_all[mask]
        order = np.argsort(d0, kind="stable")
        d0, d1 = d0[order], d1[order]
        # d1 > d0 always, so the running maximum of d1 is that of the current window
        reach = np.maximum.accumulate(d1)
        first = np.flatnonzero(np.r_[True, d0[1:] > reach[:-1] + WINDOW_GAP_DAYS])
        ends = np.maximum.reduceat(d1, first)
        windows[cols.metrics[code]] = [
            (a * DAY, b * DAY) for a, b in zip(d0[first].tolist(), ends.tolist(), strict=True)]
    return windows


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


def subtract_windows(windows: Windows, minus: Windows) -> Windows:
    """The parts of `windows` outside `minus`, per metric (both sorted, non-overlapping)."""
    result: Windows = {}
    for metric, spans in windows.items():
        cut = minus.get(metric, [])
        kept: list[tuple[int, int]] = []
        for lo, hi in spans:
            for c_lo, c_hi in cut:
                if c_hi <= lo or c_lo >= hi:
                    continue
                if c_lo > lo:
                    kept.append((lo, c_lo))
                lo = max(lo, c_hi)
                if lo >= hi:
                    break
            if lo < hi:
                kept.append((lo, hi))
        if kept:
            result[metric] = kept
    return result

