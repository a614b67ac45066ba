"""Chart-series benchmark: our read path against the naive one, side by side, in one run.

    .venv/bin/python -m bench.series [--runs 7] [--skip-load] [--sqlite-path P] [--pg-url U]

One patient wears a watch for a year and records heart rate every minute (about 400,000
rows, with realistic wear gaps), loaded through `Repository.upsert_observations` into a
SQLite file and a throwaway PostgreSQL database. For the ranges 24 h, 30 d, 1 y and all
(ending where the data ends), on each database, it times

- ours, uncached: `Repository.series` + `series_figure` + `json.dumps` (the bytes a Dash
  callback sends), on a repository without a cache;
- ours, cached: the same with a Redis `QueryCache` (warmed once, then hits);
- naive: every raw row in range through SQLAlchemy `text()` into pandas, resampled in
  pandas to as many buckets as our chart shows (mean, min, max), drawn with
  `plotly.graph_objects.Figure` and serialised with `fig.to_json()`.

Each figure is the median of `--runs` timed runs after one untimed warm-up. The tables are
Markdown on stdout; progress goes to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
import psycopg
import redis
from flask_caching.backends import RedisCache
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url

from components.figures import series_figure
from data import catalog
from data.access import Principal
from data.cache import QueryCache
from data.db import make_engine
from data.migrate import upgrade
from data.queries import DEFAULT_MAX_POINTS, SeriesQuery
from data.repository import ObservationBatch, Repository, Series

DEFAULT_SQLITE_PATH = "/tmp/hd_bench/hd_bench.sqlite"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hd_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"

MINUTE, HOUR, DAY = 60, 3600, 86400
PATIENT_NAME = "Bench patient (minute heart rate)"
TIMEZONE = "Europe/Berlin"
METRIC = "heart_rate"
SOURCE = "Apple Watch"
SOURCE_KINDS = {SOURCE: "watch"}
DATA_START = datetime(2024, 1, 1, tzinfo=UTC)
DATA_DAYS = 365
BATCH_DAYS = 7
SEED = 20240101
# Share of nights the watch spends on the charger instead of the wrist; tuned so a year
# of minute readings comes to about 400,000 rows.
NIGHT_OFF_SHARE = 0.55

# (label, seconds back from the data's end; None = everything, as the app's "All" asks)
RANGES: tuple[tuple[str, int | None], ...] = (
    ("24 h", DAY), ("30 d", 30 * DAY), ("1 y", 365 * DAY), ("all", None),
)
TARGET_SPEEDUP = 20.0
TARGET_UNCACHED_MS = 50.0
TARGET_CACHED_MS = 5.0
TARGET_FIGURE_KB = 150.0
KB = 1024

NAIVE_SQL = text(
    "SELECT start_ts, utc_offset_min, value FROM observations "
    "WHERE patient_id = :p AND metric = 'heart_rate' AND start_ts >= :lo AND start_ts < :hi "
    "ORDER BY start_ts"
)
SYSTEM = Principal.system()


def log(message: str) -> None:
    """Progress on stderr, so stdout stays a clean Markdown note."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Readings:
    """The generated year, as columns: UTC epoch seconds, UTC offset (minutes), bpm."""

    ts: np.ndarray
    offset_min: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def batches(self, days: int = BATCH_DAYS) -> list[list[tuple]]:
        """Row tuples as `upsert_observations` takes them, `days` of UTC time per batch."""
        t0 = int(self.ts[0]) // DAY * DAY
        edges = np.searchsorted(self.ts, np.arange(t0, int(self.ts[-1]) + days * DAY,
                                                   days * DAY))
        out = []
        for lo, hi in pairwise(edges):
            if hi > lo:
                ts = self.ts[lo:hi].tolist()
                out.append(list(zip(repeat(METRIC), ts, ts, self.offset_min[lo:hi].tolist(),
                                    self.value[lo:hi].tolist(), repeat(SOURCE))))
        return out


def utc_offsets(ts: np.ndarray, zone: str) -> np.ndarray:
    """UTC offset in minutes at each instant (zone changes fall on whole UTC hours)."""
    tz = ZoneInfo(zone)
    h0 = int(ts[0]) // HOUR * HOUR
    hours = range(h0, int(ts[-1]) + HOUR, HOUR)
    per_hour = np.array(
        [datetime.fromtimestamp(h, tz).utcoffset().total_seconds() // 60 for h in hours],
        dtype=np.int64,
    )
    return per_hour[(ts - h0) // HOUR]


def generate(seed: int = SEED) -> Readings:
    """A year of minute heart rate: circadian rhythm, drift, workouts, noise, wear gaps.

    Resting ~57 bpm before dawn, ~75 bpm in the afternoon, a slow day-to-day drift,
    correlated minute-to-minute noise (AR(1), sd ≈ 4.5 bpm), a workout on about half the
    days (+45..85 bpm for 25..70 min with ramps). The watch is off the wrist for a charge
    each morning, on about half the nights and on a handful of whole days.
    """
    rng = np.random.default_rng(seed)
    t0 = int(DATA_START.timestamp())
    ts = np.arange(t0, t0 + DATA_DAYS * DAY, MINUTE, dtype=np.int64)
    offset = utc_offsets(ts, TIMEZONE)
    local = ts + offset * 60
    day = local // DAY - local[0] // DAY
    days = int(day[-1]) + 1
    sec_of_day = local % DAY
    hour = sec_of_day / HOUR

    circadian = 66.0 + 9.0 * np.sin(2 * np.pi * (hour - 10.0) / 24.0)
    drift = np.cumsum(rng.normal(0.0, 0.6, days))
    drift = 3.0 * (drift - drift.mean()) / max(drift.std(), 1e-9)
    ar = 0.9  # AR(1) noise as an exponentially weighted sum of white noise
    shocks = rng.normal(0.0, 2.0, len(ts))
    noise = pd.Series(shocks / (1 - ar)).ewm(alpha=1 - ar, adjust=False).mean().to_numpy()
    bpm = circadian + drift[day] + noise

    index_of_day = np.searchsorted(day, np.arange(days))
    for d in np.flatnonzero(rng.random(days) < 0.5):  # workouts
        start_s = rng.uniform(7 * HOUR, 19 * HOUR)
        length = int(rng.integers(25, 71))
        lift = rng.uniform(45.0, 85.0)
        first = index_of_day[d] + int(start_s // MINUTE)
        shape = np.minimum.reduce([np.ones(length), np.arange(1, length + 1) / 5.0,
                                   np.arange(length, 0, -1) / 8.0])
        end = min(first + length, len(ts))
        bpm[first:end] += lift * shape[: end - first] + rng.normal(0, 3, end - first)

    worn = np.ones(len(ts), dtype=bool)
    night_of = (local - 7 * HOUR) // DAY - (local[0] - 7 * HOUR) // DAY
    nights_off = rng.random(days + 1) < NIGHT_OFF_SHARE
    worn &= ~(((hour >= 23) | (hour < 7)) & nights_off[night_of])
    charge_start = rng.uniform(6.5 * HOUR, 8.5 * HOUR, days)
    charge_len = rng.uniform(45 * MINUTE, 75 * MINUTE, days)
    worn &= ~((sec_of_day >= charge_start[day])
              & (sec_of_day < charge_start[day] + charge_len[day]))
    worn &= ~np.isin(day, rng.choice(np.arange(1, days - 1), 5, replace=False))

    value = np.clip(np.round(bpm), 38, 195).astype(np.float64)
    return Readings(ts[worn], offset[worn], value[worn])


# ---------------------------------------------------------------------- databases


@dataclass
class Database:
    """One loaded database under test."""

    name: str
    engine: Engine
    patient_id: int
    rows: int
    first_ts: int
    last_ts: int
    load_s: float | None  # None when --skip-load reused the data
    batches: int


def pg_url(url: str) -> URL:
    """The URL with the psycopg (3) driver, which is the one installed."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"--pg-url must be a postgresql:// URL, got {url!r}")
    if not parsed.database or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", parsed.database):
        raise SystemExit(f"--pg-url needs a plain database name, got {parsed.database!r}")
    return parsed.set(drivername="postgresql+psycopg")


def prepare_pg_database(url: URL, fresh: bool) -> None:
    """Create the throwaway database (dropping it first when `fresh`)."""
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True,
                         connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (url.database,)).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        if fresh or not exists:
            conn.execute(f'CREATE DATABASE "{url.database}"')


def drop_pg_database(url: URL) -> None:
    """Drop the throwaway database."""
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def remove_sqlite(path: Path) -> None:
    """Delete the SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _bench_patient(repo: Repository) -> int | None:
    for patient in repo.list_patients(SYSTEM):
        if patient.name == PATIENT_NAME:
            return patient.id
    return None


def _extent(engine: Engine, patient_id: int) -> tuple[int, int, int]:
    with engine.connect() as conn:
        count, lo, hi = conn.execute(text(
            "SELECT count(*), min(start_ts), max(start_ts) FROM observations "
            "WHERE patient_id = :p AND metric = :m"
        ), {"p": patient_id, "m": METRIC}).one()
    return int(count), int(lo or 0), int(hi or 0)


def load(name: str, engine: Engine, readings: Readings, reuse: bool) -> Database:
    """Migrate, then load the readings unless `reuse` and they are all there already."""
    upgrade(engine)
    repo = Repository(engine)
    patient_id = _bench_patient(repo)
    if reuse and patient_id is not None:
        count, lo, hi = _extent(engine, patient_id)
        if count == len(readings):
            log(f"{name}: reusing {count:,} loaded rows")
            return Database(name, engine, patient_id, count, lo, hi, None, 0)
        log(f"{name}: found {count:,} rows, expected {len(readings):,}: loading")
    if patient_id is None:
        patient_id = repo.create_patient(PATIENT_NAME, TIMEZONE)
    batches = readings.batches()
    log(f"{name}: loading {len(readings):,} rows in {len(batches)} batches ...")
    started = time.perf_counter()
    for rows in batches:
        repo.upsert_observations(ObservationBatch(patient_id, rows, SOURCE_KINDS))
    elapsed = time.perf_counter() - started
    count, lo, hi = _extent(engine, patient_id)
    if count != len(readings):
        raise SystemExit(f"{name}: {count:,} rows stored, {len(readings):,} sent")
    log(f"{name}: loaded in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")
    return Database(name, engine, patient_id, count, lo, hi, elapsed, len(batches))


# -------------------------------------------------------------------- the two paths


def ours(repo: Repository, query: SeriesQuery) -> tuple[Series | None, str]:
    """What our explorer callback does: the figure built from the series and cached with the
    query's key (`Repository.view`), then JSON. The series comes back only on a miss."""
    metric = catalog.get(query.metric)
    built: list[Series] = []

    def build(result: Series) -> dict:
        built.append(result)
        return series_figure(result, metric)

    figure = repo.view(SYSTEM, query, "bench-figure", build)
    return (built[0] if built else None), json.dumps(figure)


@dataclass(frozen=True)
class NaivePlan:
    """Rows to select and how to bucket them."""

    lo: int
    hi: int
    rule: str  # pandas offset alias
    band: bool  # draw the min–max band (pointless at one reading per bucket)


def naive(engine: Engine, patient_id: int, plan: NaivePlan) -> tuple[str, int, int]:
    """What a typical Dash app does: all raw rows → pandas → resample → go.Figure → JSON.

    Returns the JSON, the rows read and the points drawn.
    """
    with engine.connect() as conn:
        frame = pd.read_sql(NAIVE_SQL, conn,
                            params={"p": patient_id, "lo": plan.lo, "hi": plan.hi})
    local = pd.to_datetime(frame["start_ts"] + frame["utc_offset_min"] * 60, unit="s")
    values = pd.Series(frame["value"].to_numpy(), index=local, name="value")
    buckets = values.resample(plan.rule).agg(["mean", "min", "max"]).dropna()
    fig = go.Figure()
    if plan.band:
        fig.add_trace(go.Scatter(x=buckets.index, y=buckets["min"], mode="lines",
                                 line={"width": 0}, showlegend=False, name="Min"))
        fig.add_trace(go.Scatter(x=buckets.index, y=buckets["max"], mode="lines",
                                 line={"width": 0}, fill="tonexty", name="Range (min–max)"))
    fig.add_trace(go.Scatter(x=buckets.index, y=buckets["mean"], mode="lines",
                             name="Heart rate", line={"width": 1.5}))
    fig.update_layout(yaxis_title="Heart rate (bpm)", hovermode="x unified",
                      margin={"l": 60, "r": 16, "t": 56, "b": 40})
    return fig.to_json(), len(frame), len(buckets)


def naive_plan(series: Series, lo: int, hi: int) -> NaivePlan:
    """Buckets as coarse as the chart's points: same resolution, or span / points."""
    if series.rows_read <= len(series):  # not downsampled: the repository's own buckets
        minutes = {"raw": 1, "hour": 60, "day": 1440}[series.resolution]
    else:  # MinMaxLTTB picked len(series) points: as many equal buckets over the span
        minutes = math.ceil((hi - lo) / MINUTE / len(series))
    return NaivePlan(lo, hi, f"{minutes}min", band=minutes > 1)


# ---------------------------------------------------------------------- measuring


def interleaved(
    fns: dict[str, Callable[[], Any]], runs: int
) -> dict[str, tuple[float, float, Any]]:
    """Median and fastest wall time (ms) of each function, and its last result.

    One untimed warm-up round, then `runs` rounds calling each function in turn: a burst
    of other work on the machine then slows every variant alike, and the ratios hold.
    Garbage is collected (untimed) before each call, so no variant pays for another's.
    """
    results = {name: fn() for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            started = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(times[name]) * 1000, min(times[name]) * 1000,
                   results[name]) for name in fns}


@dataclass(frozen=True)
class RangeResult:
    """One row of a table."""

    label: str
    uncached_ms: float
    cached_ms: float
    naive_ms: float
    resolution: str
    rows_read: int
    points: int
    naive_rows: int
    naive_points: int
    naive_rule: str
    figure_kb: float
    naive_kb: float
    uncached_best_ms: float
    cached_best_ms: float

    @property
    def speedup(self) -> float:
        return self.naive_ms / self.uncached_ms


def cached_repository(db: Database, client: redis.Redis) -> Repository:
    """A repository with a Redis query cache, keys prefixed per database.

    Both databases hold patient 1 at the same data version: without the prefix one would
    be served the other's cached series.
    """
    backend = RedisCache(host=client, key_prefix=f"bench:{db.name.lower()}:")
    return Repository(db.engine, QueryCache(backend, ttl_s=3600))


def measure(db: Database, client: redis.Redis, runs: int) -> list[RangeResult]:
    """Every range on one database."""
    plain, cached = Repository(db.engine), cached_repository(db, client)
    assert cached.cache is not None
    end = db.last_ts + MINUTE  # exclusive, like the app's window(): now + 60
    results = []
    for label, back in RANGES:
        start = end - back if back is not None else None
        query = SeriesQuery(db.patient_id, METRIC, start, end if back is not None else None,
                            DEFAULT_MAX_POINTS)
        series, _ = ours(plain, query)
        plan = naive_plan(series, start if start is not None else db.first_ts, end)
        ours(cached, query)  # the miss that fills the cache
        key = f"{query.cache_key(plain.data_version(db.patient_id))}:bench-figure"
        if cached.cache.get(key) is None:
            raise SystemExit(f"{db.name} {label}: the series did not reach the cache")
        timed = interleaved({
            "uncached": lambda q=query: ours(plain, q),
            "cached": lambda q=query: ours(cached, q),
            "naive": lambda p=plan: naive(db.engine, db.patient_id, p),
        }, runs)
        uncached_ms, uncached_best, (series, payload) = timed["uncached"]
        cached_ms, cached_best, (_hit, hit_payload) = timed["cached"]
        naive_ms, _naive_best, (naive_json, naive_rows, naive_points) = timed["naive"]
        if hit_payload != payload:
            raise SystemExit(f"{db.name} {label}: the cached figure differs from the uncached")
        if naive_rows < series.rows_read and series.resolution == "raw":
            raise SystemExit(f"{db.name} {label}: naive read fewer rows than ours")
        results.append(RangeResult(
            label, uncached_ms, cached_ms, naive_ms, series.resolution, series.rows_read,
            len(series), naive_rows, naive_points, plan.rule,
            len(payload.encode()) / KB, len(naive_json.encode()) / KB, uncached_best,
            cached_best,
        ))
        r = results[-1]
        log(f"  {db.name} {label}: ours {r.uncached_ms:.1f} ms, cached {r.cached_ms:.2f} ms, "
            f"naive {r.naive_ms:.1f} ms ({r.speedup:.1f}x)")
    return results


def _query(db: Database, label: str) -> SeriesQuery:
    back = dict(RANGES)[label]
    end = db.last_ts + MINUTE
    return SeriesQuery(db.patient_id, METRIC, end - back if back else None,
                       end if back else None, DEFAULT_MAX_POINTS)


def stages(repo: Repository, query: SeriesQuery, runs: int) -> list[float]:
    """Median ms of `series`, `series_figure` and `json.dumps`, after one warm-up."""
    metric = catalog.get(query.metric)
    times: list[list[float]] = [[], [], []]
    for i in range(runs + 1):
        gc.collect()
        t0 = time.perf_counter()
        series = repo.series(SYSTEM, query)
        t1 = time.perf_counter()
        figure = series_figure(series, metric)
        t2 = time.perf_counter()
        json.dumps(figure)
        t3 = time.perf_counter()
        if i:
            for bucket, value in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                bucket.append(value)
    return [statistics.median(t) * 1000 for t in times]


def profile(db: Database, client: redis.Redis, label: str, runs: int, top: int = 25) -> str:
    """Where the time of ours goes for one range: stage medians, then cProfile of each path."""
    query = _query(db, label)
    paths = {"uncached": Repository(db.engine), "cached": cached_repository(db, client)}
    paths["cached"].series(SYSTEM, query)  # fill the cache
    split = {name: stages(repo, query, max(runs, 15)) for name, repo in paths.items()}
    rows = [[stage, *(_ms(split[name][i]) for name in paths)]
            for i, stage in enumerate(("Repository.series", "series_figure", "json.dumps"))]
    out = io.StringIO()
    out.write(f"#### {db.name}, {label}: where ours spends its time\n\n")
    out.write(md_table(["stage (median ms)", *paths], rows, right={1, 2}) + "\n")
    for name, repo in paths.items():
        ours(repo, query)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            ours(repo, query)
        profiler.disable()
        out.write(f"\n```text\n{db.name}, {label}, ours {name}, cProfile of {runs} calls\n")
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        out.write("```\n")
    return out.getvalue()


# ----------------------------------------------------------------------- printing


def md_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """A Markdown table, columns padded so it also reads well as plain text."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if i in right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i in right else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(header), line(rule), *(line(r) for r in rows)])


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def results_table(results: list[RangeResult]) -> str:
    header = ["range", "ours uncached ms", "ours cached ms", "naive ms",
              "speed-up (naive / ours uncached)", "points (ours / naive)",
              "figure KB (ours)", "figure KB (naive)"]
    rows = [[r.label, _ms(r.uncached_ms), _ms(r.cached_ms), _ms(r.naive_ms),
             f"{r.speedup:,.1f}×", f"{r.points:,} / {r.naive_points:,}",
             f"{r.figure_kb:,.1f}", f"{r.naive_kb:,.1f}"] for r in results]
    return md_table(header, rows, right=set(range(1, 8)))


_RES = {"raw": "raw rows", "hour": "hourly rollup", "day": "daily rollup"}


def resolution_notes(results: list[RangeResult]) -> str:
    parts = []
    for r in results:
        ours_how = f"{_RES[r.resolution]}, {r.rows_read:,} rows read"
        if r.rows_read > r.points:
            ours_how += f" → MinMaxLTTB {r.points:,}"
        parts.append(f"{r.label}: ours {ours_how}; naive {r.naive_rows:,} raw rows "
                     f"→ `resample('{r.naive_rule}')`")
    return "Points: " + "; ".join(parts) + "."


def load_line(db: Database) -> str:
    if db.load_s is None:
        return (f"Load: skipped (--skip-load), reused {db.rows:,} rows of patient "
                f"{db.patient_id}.")
    return (f"Load: {db.rows:,} rows in {db.batches} batches of {BATCH_DAYS} days through "
            f"`upsert_observations` (insert + rollups) in {db.load_s:.1f} s = "
            f"**{db.rows / db.load_s:,.0f} rows/s**.")


def targets_table(by_db: dict[str, list[RangeResult]]) -> tuple[str, bool]:
    pg = {r.label: r for r in by_db.get("PostgreSQL", [])}
    rows: list[list[str]] = []
    ok_all = True

    def add(target: str, measured: str, ok: bool | None) -> None:
        nonlocal ok_all
        ok_all &= ok is not False
        rows.append([target, measured, "n/a" if ok is None else "✅ met" if ok else "❌ missed"])

    year = pg.get("1 y")
    add(f"PostgreSQL 1 y: naive / ours uncached ≥ {TARGET_SPEEDUP:.0f}×",
        f"{year.speedup:.1f}×" if year else "not run",
        year.speedup >= TARGET_SPEEDUP if year else None)
    add(f"PostgreSQL 1 y: ours uncached median ≤ {TARGET_UNCACHED_MS:.0f} ms",
        f"{_ms(year.uncached_ms)} ms (fastest run {_ms(year.uncached_best_ms)})"
        if year else "not run",
        year.uncached_ms <= TARGET_UNCACHED_MS if year else None)
    every = [(db, r) for db, rs in by_db.items() for r in rs]
    db, worst = max(every, key=lambda x: x[1].cached_ms)
    add(f"ours cached ≤ {TARGET_CACHED_MS:.0f} ms (every range, every database)",
        f"worst {_ms(worst.cached_ms)} ms ({db} {worst.label}; fastest run "
        f"{_ms(worst.cached_best_ms)})",
        worst.cached_ms <= TARGET_CACHED_MS)
    db, big = max(every, key=lambda x: x[1].figure_kb)
    add(f"no figure of ours over {TARGET_FIGURE_KB:.0f} KB",
        f"largest {big.figure_kb:.1f} KB ({db} {big.label})", big.figure_kb <= TARGET_FIGURE_KB)
    db, nbig = max(every, key=lambda x: x[1].naive_kb)
    add("(for comparison, not a target) largest naive figure",
        f"{nbig.naive_kb:.1f} KB ({db} {nbig.label})", None)
    return md_table(["target", "measured", "result"], rows, right=set()), ok_all


def environment(args: argparse.Namespace, pg_version: str, load_avg: tuple[float, float]) -> str:
    cpus = os.cpu_count() or 1
    text_ = (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {pg_version}, pandas {pd.__version__}, plotly {plotly.__version__}, "
        f"{cpus} CPUs. Median of {args.runs} runs after 1 warm-up; "
        f"max_points {DEFAULT_MAX_POINTS}; times include JSON serialisation. "
        f"1-min load average {load_avg[0]:.2f} at start, {load_avg[1]:.2f} at end"
    )
    if max(load_avg) > cpus / 2:
        text_ += " (other work was running: expect noisy timings, compare within a run)"
    return text_ + "."


# -------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.series", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7,
                        help="timed runs per cell, after one warm-up (default 7, at least 5 "
                             "recommended)")
    parser.add_argument("--skip-load", action="store_true",
                        help="reuse the databases when they already hold the full data set")
    parser.add_argument("--sqlite-path", default=DEFAULT_SQLITE_PATH,
                        help=f"SQLite file (default {DEFAULT_SQLITE_PATH}; replaced unless "
                             "--skip-load)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"PostgreSQL database, created and dropped+recreated unless "
                             f"--skip-load (default {DEFAULT_PG_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"Redis database for the cache, flushed before and after "
                             f"(default {DEFAULT_REDIS_URL})")
    parser.add_argument("--only", choices=("sqlite", "postgresql"),
                        help="run on one database only")
    parser.add_argument("--profile", metavar="RANGE", choices=[r for r, _ in RANGES],
                        help="also print, for this range, the time of each stage of ours and a "
                             "cProfile of ours, uncached and cached")
    parser.add_argument("--drop", action="store_true",
                        help="drop the PostgreSQL database and delete the SQLite file at the end")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    client = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2, socket_timeout=2)
    client.flushdb()
    readings = generate()
    log(f"generated {len(readings):,} readings")
    sqlite_path = Path(args.sqlite_path)
    pg = pg_url(args.pg_url)
    databases: list[Database] = []
    by_db: dict[str, list[RangeResult]] = {}
    profiles: list[str] = []
    pg_version = "not run"
    try:
        if args.only in (None, "sqlite"):
            if not args.skip_load:
                remove_sqlite(sqlite_path)
            engine = make_engine(f"sqlite:///{sqlite_path}")
            databases.append(load("SQLite", engine, readings, args.skip_load))
        if args.only in (None, "postgresql"):
            prepare_pg_database(pg, fresh=not args.skip_load)
            engine = make_engine(pg.render_as_string(hide_password=False))
            with engine.connect() as conn:
                pg_version = conn.execute(text("SHOW server_version")).scalar_one().split()[0]
            databases.append(load("PostgreSQL", engine, readings, args.skip_load))
        for db in databases:
            log(f"measuring {db.name} ...")
            by_db[db.name] = measure(db, client, args.runs)
            if args.profile:
                profiles.append(profile(db, client, args.profile, args.runs))
    finally:
        client.flushdb()
        for db in databases:
            db.engine.dispose()
        if args.drop:
            remove_sqlite(sqlite_path)
            if args.only in (None, "postgresql"):
                drop_pg_database(pg)

    print("## Chart series: ours vs naive (heart rate, 1 year of minute readings)\n")
    print(environment(args, pg_version, (load_start, os.getloadavg()[0])) + "\n")
    for db in databases:
        results = by_db[db.name]
        print(f"### {db.name}\n")
        print(results_table(results) + "\n")
        print(load_line(db) + "\n")
        print(resolution_notes(results) + "\n")
    table, ok = targets_table(by_db)
    print("### Targets\n")
    print(table + "\n")
    print(f"All targets met: {'yes' if ok else 'NO'}. "
          f"Whole run: {time.perf_counter() - started:.0f} s.")
    if profiles:
        print("\n### Profiles\n")
    for text_ in profiles:
        print(text_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
