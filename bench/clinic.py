"""Clinician review benchmark: the triage list and a patient page, 1,000 patients, PostgreSQL.

    .venv/bin/python -m bench.clinic [--patients 1000] [--days 120] [--clinic-hr-interval 900]
                                     [--pg-url U] [--fresh] [--repeat N]

Seeds (once; reused afterwards unless `--fresh`) the demo clinic with `data.seed.seed_demo`:
the demo clinician with N patients on the care team, each with `--days` of synthetic data
and a triage summary. Then it builds the real app (`app.create_app`, Redis db 14 as the
cache), signs in through the real login form as the demo clinician and times **server
time of Dash callbacks**: Flask's test client posting to `/_dash-update-component` the JSON
the browser posts, payloads built from `app.callback_map`.

- Triage list (callbacks/patients.py `table`, first page, most urgent first):
  - ours cold: every stored summary stale (`UPDATE patient_summaries SET version = -1`
    before each run), so the callback recomputes all of them from the rollups;
  - ours uncached: summaries fresh (the normal case); the list has no Redis layer;
  - raw path: the same callback with the repository's summary source swapped for
    computing every patient's `TriageInputs` from raw observations on request (SQL on
    `observations`, per-local-day aggregation in numpy, the latest reading by a scan of
    all the patient's rows) and the same pure `data.triage.compute`; its figures are
    checked against the stored ones, patient by patient.
- Patient page, 90-day range, ~20 patients (the diabetic ones included): each callback of
  callbacks/clinical.py and callbacks/notes.py and the header/KPI callback of
  callbacks/overview.py, uncached (Redis db 14 flushed before the call) and cached (the
  same call again).

Markdown tables on stdout, progress on stderr, results as JSON in bench/out/clinic.json.
A callback whose uncached median or p95 is over 100 ms (and the list, when it misses its
targets) gets a cProfile of 5 uncached calls. See bench/README.md.
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
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import redis
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from app import create_app
from auth.passwords import hash_password
from bench.series import _ms, log, md_table, pg_url, prepare_pg_database
from data import triage
from data.db import make_engine
from data.migrate import upgrade
from data.repository import Repository
from data.repository.base import fetch_driver_rows
from data.seed import CLINICIAN_EMAIL, DEMO_PASSWORD, seed_demo
from settings import Settings

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/healthdash_bench_clinic"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "clinic.json"
DASH_URL = "/_dash-update-component"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
DAY = 86400
RANGE = "90d"
TARGET_LIST_MS = 300.0
TARGET_LIST_SPEEDUP = 10.0
TARGET_PAGE_MS = 100.0
RAW_ONE_RUN_S = 60.0  # a raw-path run longer than this is measured once

# The list callback and the patient page's callbacks, each named by one of its outputs.
LIST_OUTPUT = "patient-table.children"
PAGE_CALLBACKS: tuple[tuple[str, str], ...] = (
    ("header/KPI (overview)", "patient-header.children"),
    ("range text", "clin-range-text.children"),
    ("blood pressure", "clin-stats-bp.children"),
    ("weight", "clin-stats-weight.children"),
    ("heart", "clin-stats-heart.children"),
    ("sleep", "clin-stats-sleep.children"),
    ("hypnogram", "clin-graph-hypnogram.figure"),
    ("steps", "clin-stats-steps.children"),
    ("spo2", "clin-stats-spo2.children"),
    ("glucose", "clin-stats-glucose.children"),
    ("heatmap", "clin-graph-heatmap.figure"),
    ("note list (notes)", "clin-note-list.children"),
    ("review text (notes)", "clin-review-text.children"),
)
# What the browser sends for each input or state, by "id.property" (the page's defaults).
BROWSER_VALUES: dict[str, Any] = {
    "patient-search.value": None,
    "triage-sort.value": "urgency",
    "triage-filter.value": [],
    "triage-page.active_page": 1,
    "clin-range.value": RANGE,
    "clin-custom-range.start_date": None,
    "clin-custom-range.end_date": None,
    "clin-notes-version.data": 0,
    "clin-heatmap-metric.value": "heart_rate",
    "clin-review-button.n_clicks": None,
}


# --------------------------------------------------------------------------- database


@dataclass
class Clinic:
    """The seeded database."""

    engine: Engine
    patients: int  # on the demo clinician's care team
    rows: int  # observations (all patients, the demo patient's included)
    rollup_rows: int
    seeded_s: float | None  # None when an existing seed was reused
    seeded_rows: int | None


def counts(engine: Engine) -> tuple[int, int, int, int]:
    """Care-team patients, those with a stored summary, observations, daily rollup rows."""
    with engine.connect() as conn:
        team, summaries = conn.execute(text(
            "SELECT count(*), count(ps.patient_id) FROM care_team ct "
            "JOIN users u ON u.id = ct.clinician_id "
            "LEFT JOIN patient_summaries ps ON ps.patient_id = ct.patient_id "
            "WHERE u.email = :e"), {"e": CLINICIAN_EMAIL}).one()
        rows = conn.execute(text("SELECT count(*) FROM observations")).scalar_one()
        rollups = conn.execute(text("SELECT count(*) FROM rollup_daily")).scalar_one()
    return int(team), int(summaries), int(rows), int(rollups)


def seed(args: argparse.Namespace, url: URL) -> Clinic:
    """Create, migrate and seed the database, or reuse a complete seed of the same size."""
    prepare_pg_database(url, fresh=args.fresh)
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    repo = Repository(engine)
    seconds = seeded_rows = None
    if repo.user_by_email(CLINICIAN_EMAIL) is None:
        log(f"seeding {args.patients:,} clinic patients x {args.days} days (heart rate every "
            f"{args.clinic_hr_interval} s; the demo patient's every {args.hr_interval} s) ...")
        report = seed_demo(
            repo, hash_password, clinic_patients=args.patients, days=args.days,
            clinic_hr_interval_s=args.clinic_hr_interval, hr_interval_s=args.hr_interval,
            progress=lambda msg: log(f"  {msg}"),
        )
        seconds, seeded_rows = report.seconds, report.rows
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))  # planner statistics for the fresh tables
        log(f"seeded {report.patients:,} patients, {report.rows:,} rows in {seconds:.0f} s")
    team, summaries, rows, rollups = counts(engine)
    if team != args.patients or summaries != team:
        raise SystemExit(
            f"{url.database} holds an incomplete or different seed ({team:,} patients on the "
            f"care team, {summaries:,} summaries; asked for {args.patients:,}): use --fresh")
    if seconds is None:
        log(f"reusing the seeded database: {team:,} patients, {rows:,} observations")
    return Clinic(engine, team, rows, rollups, seconds, seeded_rows)


# ------------------------------------------------------------------ app and payloads


def build_app(url: URL, redis_url: str, data_dir: str):
    """The real app on the benchmark database, and a test client signed in as the clinician."""
    app = create_app(Settings(
        database_url=url.render_as_string(hide_password=False), redis_url=redis_url,
        data_dir=Path(data_dir), secret_key="bench-clinic-secret", log_level="WARNING",
        _env_file=None,
    ))
    client = app.server.test_client()
    form = {"email": CLINICIAN_EMAIL, "password": DEMO_PASSWORD}
    token = _token(client.get("/login"), FORM_TOKEN)
    if token:  # a CSRF-protected form: send its hidden field, as the browser does
        form["csrf_token"] = token
    answer = client.post("/login", data=form)
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SystemExit(f"signing in as {CLINICIAN_EMAIL} failed ({answer.status_code})")
    token = _token(client.get("/", follow_redirects=True), PAGE_TOKEN)
    if token:  # what the page's script adds to every callback request
        client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    return app, client


def _token(answer, pattern: re.Pattern) -> str | None:
    found = pattern.search(answer.get_data(as_text=True))
    return found.group(1) if found else None


def _id_prop(spec: str) -> dict:
    ident, prop = spec.split("@")[0].rsplit(".", 1)
    return {"id": ident, "property": prop}


def callback_key(app, output: str) -> str:
    """The `app.callback_map` key of the callback that writes `output` ("id.property")."""
    for key in app.callback_map:
        parts = key.strip(".").split("...") if key.startswith("..") else [key]
        if output in (p.split("@")[0] for p in parts):
            return key
    raise SystemExit(f"no callback writes {output}")


def payload(app, key: str, values: dict[str, Any]) -> dict:
    """The JSON the browser posts for the callback `key`, with `values` by "id.property"."""
    spec = app.callback_map[key]
    multi = key.startswith("..")
    outputs = [_id_prop(p) for p in key.strip(".").split("...")] if multi else _id_prop(key)

    def fill(items: list[dict]) -> list[dict]:
        return [{"id": i["id"], "property": i["property"],
                 "value": values[f"{i['id']}.{i['property']}"]} for i in items]

    return {"output": key, "outputs": outputs, "inputs": fill(spec["inputs"]),
            "state": fill(spec["state"]), "changedPropIds": []}


def post(client, body: dict) -> tuple[float, dict]:
    """One callback: server time (ms) and the decoded answer."""
    gc.collect()
    started = time.perf_counter()
    answer = client.post(DASH_URL, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code not in (200, 204):
        raise SystemExit(f"{body['output']}: HTTP {answer.status_code}: "
                         f"{answer.get_data(as_text=True)[:500]}")
    return elapsed, (answer.get_json() if answer.status_code == 200 else {})


@dataclass
class Timing:
    """Samples of one measured case, ms."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def p95(self) -> float:
        return float(np.percentile(self.samples, 95)) if self.samples else math.nan

    def as_json(self) -> dict:
        return {"median_ms": round(self.median, 3), "p95_ms": round(self.p95, 3),
                "n": len(self.samples), "samples_ms": [round(s, 3) for s in self.samples]}


# ------------------------------------------------------------------------- raw path


class RawTriage(Repository):
    """The triage list with every patient's figures computed from raw observations.

    `TriageMixin._rows` (summaries, freshness flags, reviews, severity) runs unchanged; only
    where the summaries come from differs: instead of stored rows it computes each
    patient's `TriageInputs` from `observations` and calls the same `triage.compute`.
    """

    stats: dict[int, dict]

    def _summary_rows(self, ids: list[int]) -> dict[int, tuple]:
        self.stats = {}
        out = {}
        with self.engine.connect() as conn:
            sync = dict(fetch_driver_rows(conn, (
                "SELECT patient_id, updated_ts FROM data_versions "
                "WHERE patient_id = ANY(%s)"), (ids,)))
            for pid in ids:
                inputs, last_utc = raw_inputs(conn, pid)
                stats = triage.compute(inputs)
                self.stats[pid] = stats
                # (data version, summary version): equal, so _rows takes them as fresh
                out[pid] = (0, 0, last_utc, sync.get(pid), json.dumps(stats, allow_nan=False))
        return out


def _daily(t_local: np.ndarray, value: np.ndarray, lo: int, day: int,
           low: bool = False) -> tuple[triage.Daily, triage.Daily | None]:
    """Mean (and min) per local day in [lo, day], oldest first."""
    bucket = t_local // DAY * DAY
    keep = (bucket >= lo) & (bucket <= day)
    days, index = np.unique(bucket[keep], return_inverse=True)
    n = np.bincount(index, minlength=len(days))
    mean = np.bincount(index, weights=value[keep], minlength=len(days)) / n
    minimum = None
    if low:
        lowest = np.full(len(days), np.inf)
        np.minimum.at(lowest, index, value[keep])
        minimum = triage.Daily(days, lowest)
    return triage.Daily(days, mean), minimum


def raw_inputs(conn: Connection, pid: int) -> tuple[triage.TriageInputs, int | None]:
    """One patient's triage inputs from raw rows, over the windows `data.triage` uses."""
    latest = fetch_driver_rows(conn, (  # max(start_ts) over every metric: all the rows
        "SELECT start_ts, utc_offset_min FROM observations WHERE patient_id = %s "
        "ORDER BY start_ts DESC LIMIT 1"), (pid,))
    if not latest:
        return triage.TriageInputs(None), None
    last_utc, last_off = int(latest[0][0]), int(latest[0][1])
    last_local = last_utc + last_off * 60
    day = triage.as_of_day(last_local)
    lo = day - triage.HISTORY_DAYS * DAY
    rows = fetch_driver_rows(conn, (
        "SELECT metric, start_ts + utc_offset_min * 60, value FROM observations "
        "WHERE patient_id = %s AND metric IN ('resting_heart_rate', 'body_mass', 'spo2') "
        "AND start_ts >= %s AND start_ts < %s ORDER BY metric, start_ts, source_id"
    ), (pid, lo - DAY, day + 2 * DAY))  # ±1 day of UTC slack; local days filtered below
    daily: dict[str, triage.Daily] = {}
    spo2_min = None
    if rows:
        metric = np.array([r[0] for r in rows])
        t_local = np.array([r[1] for r in rows], dtype=np.int64)
        value = np.array([r[2] for r in rows], dtype=np.float64)
        for code in triage.TRIAGE_METRICS:
            mine = metric == code
            if mine.any():
                mean, low = _daily(t_local[mine], value[mine], lo, day, low=code == "spo2")
                if len(mean.day):
                    daily[code] = mean
                    spo2_min = low if code == "spo2" else spo2_min
    bp_t, bp_sys, bp_dia = raw_bp_pairs(conn, pid, day)
    glucose = fetch_driver_rows(conn, (
        "SELECT start_ts + utc_offset_min * 60, value FROM observations "
        "WHERE patient_id = %s AND metric = 'blood_glucose' AND start_ts >= %s AND start_ts < %s"
    ), (pid, day - triage.GLUCOSE_DAYS * DAY, day + 2 * DAY))
    g = np.array(glucose, dtype=np.float64).reshape(-1, 2)
    g = g[g[:, 0] >= day - (triage.GLUCOSE_DAYS - 1) * DAY, 1]
    return triage.TriageInputs(last_local, daily, spo2_min, bp_t, bp_sys, bp_dia, g), last_utc


def raw_bp_pairs(conn: Connection, pid: int, day: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every BP reading of the patient; pairs (same instant and device) of the last BP days,
    or each metric's latest reading when it has none then."""
    rows = fetch_driver_rows(conn, (
        "SELECT metric, start_ts, utc_offset_min, source_id, value FROM observations "
        "WHERE patient_id = %s AND metric IN ('bp_systolic', 'bp_diastolic') "
        "ORDER BY start_ts"), (pid,))
    cut = day - (triage.BP_DAYS + 1) * DAY
    side = {}
    for code in ("bp_systolic", "bp_diastolic"):
        mine = [r for r in rows if r[0] == code]
        recent = [r for r in mine if r[1] >= cut] or mine[-1:]
        side[code] = {(r[1], r[3]): (r[1] + r[2] * 60, r[4]) for r in recent}
    keys = sorted(set(side["bp_systolic"]) & set(side["bp_diastolic"]))
    return (np.array([side["bp_systolic"][k][0] for k in keys], dtype=np.int64),
            np.array([side["bp_systolic"][k][1] for k in keys], dtype=float),
            np.array([side["bp_diastolic"][k][1] for k in keys], dtype=float))


def same(a: Any, b: Any, tol: float = 2e-3) -> bool:
    """JSON values equal, floats within `tol` (stored figures are rounded to 3 decimals)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=tol)
    return a == b


def compare(engine: Engine, raw: dict[int, dict]) -> tuple[int, list[dict]]:
    """How many patients' raw figures equal the stored ones, and the mismatches."""
    with engine.connect() as conn:
        stored = {pid: json.loads(s) for pid, s in conn.execute(text(
            "SELECT patient_id, stats FROM patient_summaries WHERE patient_id = ANY(:ids)"),
            {"ids": list(raw)})}
    ours = {pid: json.loads(json.dumps(s)) for pid, s in raw.items()}  # as stored: JSON
    bad = [{"patient_id": pid, "ours": stored.get(pid), "raw": ours[pid]}
           for pid in sorted(ours) if not same(stored.get(pid), ours[pid])]
    return len(ours) - len(bad), bad


# ------------------------------------------------------------------------ measuring


@dataclass
class ListResult:
    cold: Timing
    uncached: Timing
    raw: Timing
    matched: int
    mismatches: list[dict]
    same_table: bool
    patients: int


def measure_list(app, client, clinic: Clinic, repeat: int, cold_runs: int) -> ListResult:
    """The triage list: ours cold, ours uncached, the raw path (checked against ours)."""
    body = payload(app, callback_key(app, LIST_OUTPUT), BROWSER_VALUES)
    repo: Repository = app.server.extensions["healthdash.repository"]
    cold = Timing()
    for i in range(cold_runs):
        with clinic.engine.begin() as conn:
            conn.execute(text("UPDATE patient_summaries SET version = -1"))
        ms, _ = post(client, body)
        cold.samples.append(ms)
        log(f"  list cold {i + 1}/{cold_runs}: {ms:,.0f} ms")
    post(client, body)  # warm-up
    uncached = Timing()
    for _ in range(repeat):
        uncached.samples.append(post(client, body)[0])
    _, ours_answer = post(client, body)
    log(f"  list uncached: median {uncached.median:.1f} ms")

    raw_repo = RawTriage(clinic.engine)
    repo.triage = raw_repo.triage  # the instance attribute shadows the method
    raw = Timing()
    try:
        while True:
            ms, raw_answer = post(client, body)
            raw.samples.append(ms)
            log(f"  list raw path run {len(raw.samples)}: {ms:,.0f} ms")
            if ms > RAW_ONE_RUN_S * 1000 or len(raw.samples) >= 3:
                break
    finally:
        del repo.triage
    matched, mismatches = compare(clinic.engine, raw_repo.stats)
    log(f"  raw figures equal to ours for {matched:,} of {len(raw_repo.stats):,} patients")
    return ListResult(cold, uncached, raw, matched, mismatches,
                      ours_answer == raw_answer, len(raw_repo.stats))


def page_patients(engine: Engine, n: int) -> tuple[list[int], set[int], str]:
    """About n care-team patients: diabetic (CGM), hypertensive, silent and others, fixed;
    those with CGM glucose, and a note of how many of them are which."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT ps.patient_id, ps.stats::json->'tir' IS NOT NULL AND "
            "json_typeof(ps.stats::json->'tir') = 'object', "
            "json_typeof(ps.stats::json->'bp') = 'object', ps.last_data_ts "
            "FROM patient_summaries ps JOIN care_team ct ON ct.patient_id = ps.patient_id "
            "JOIN users u ON u.id = ct.clinician_id WHERE u.email = :e ORDER BY ps.patient_id"),
            {"e": CLINICIAN_EMAIL}).all()
    newest = max((r[3] or 0) for r in rows)
    groups = [[r[0] for r in rows if r[1]], [r[0] for r in rows if r[2] and not r[1]],
              [r[0] for r in rows if (r[3] or 0) < newest - 3 * DAY], [r[0] for r in rows]]
    quota = [max(1, n * 3 // 10), max(1, n * 3 // 10), max(1, n // 10), n]
    rng = np.random.default_rng(20261128)
    chosen: list[int] = []
    for group, k in zip(groups, quota, strict=True):
        left = [p for p in group if p not in chosen]
        take = min(k, n - len(chosen), len(left))
        chosen += [int(p) for p in rng.choice(left, take, replace=False)] if take > 0 else []
    kinds = [sum(p in set(g) for p in chosen) for g in groups[:3]]
    mix = (f"{kinds[0]} with CGM glucose, {kinds[1]} more with blood pressure readings, "
           f"{kinds[2]} without data for 3+ days")
    return sorted(chosen), set(chosen) & set(groups[0]), mix


@dataclass
class PageResult:
    label: str
    key: str
    uncached: Timing
    cached: Timing
    pids: list[int] = field(default_factory=list)  # the patient of each sample

    def only(self, label: str, keep: set[int]) -> PageResult:
        """The samples of some patients only."""
        pick = [i for i, pid in enumerate(self.pids) if pid in keep]
        return PageResult(label, self.key,
                          Timing([self.uncached.samples[i] for i in pick]),
                          Timing([self.cached.samples[i] for i in pick]),
                          [self.pids[i] for i in pick])


def measure_page(app, client, r: redis.Redis, patients: list[int], rounds: int
                 ) -> tuple[list[PageResult], dict[int, Any]]:
    """Each patient-page callback over the patients: uncached (flushed) then cached.

    Also returns each patient's night for the hypnogram (the one the sleep callback picks).
    """
    keys = {label: callback_key(app, out) for label, out in PAGE_CALLBACKS}
    results = {label: PageResult(label, key, Timing(), Timing()) for label, key in keys.items()}
    nights: dict[int, Any] = {}

    def bodies(pid: int) -> dict[str, dict]:
        values = {**BROWSER_VALUES, "patient-store.data": pid,
                  "clin-night.value": nights.get(pid)}
        return {label: payload(app, key, values) for label, key in keys.items()}

    for pid in patients:  # untimed warm-up: imports, plans, PostgreSQL's buffers
        _, answer = post(client, bodies(pid)["sleep"])
        nights[pid] = answer.get("response", {}).get("clin-night", {}).get("value")
        for body in bodies(pid).values():
            post(client, body)
    for rnd in range(rounds):
        for pid in patients:
            for label, body in bodies(pid).items():
                r.flushdb()
                results[label].uncached.samples.append(post(client, body)[0])
                results[label].cached.samples.append(post(client, body)[0])
                results[label].pids.append(pid)
        log(f"  patient page round {rnd + 1}/{rounds} done")
    return list(results.values()), nights


def profile_callback(client, body: dict, r: redis.Redis | None, runs: int = 5,
                     top: int = 30) -> str:
    """cProfile of `runs` calls of one callback (uncached when `r` is given)."""
    profiler = cProfile.Profile()
    for _ in range(runs):
        if r is not None:
            r.flushdb()
        gc.collect()
        profiler.enable()
        client.post(DASH_URL, json=body)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top // 2)
    return out.getvalue()


# ------------------------------------------------------------------------- printing


def _ratio(a: float, b: float) -> str:
    return f"{a / b:,.1f}×" if b > 0 else "n/a"


def _ok(ok: bool) -> str:
    return "✅ met" if ok else "❌ missed"


def list_table(res: ListResult) -> str:
    raw_note = "" if len(res.raw.samples) > 1 else " (1 run)"
    header = ["triage list (1st page)", "ours cold", "ours uncached", "raw path",
              "speed-up (raw ÷ ours uncached)", "cold ÷ uncached"]
    rows = [
        ["median ms", _ms(res.cold.median), _ms(res.uncached.median),
         _ms(res.raw.median) + raw_note, _ratio(res.raw.median, res.uncached.median),
         _ratio(res.cold.median, res.uncached.median)],
        ["p95 ms", _ms(res.cold.p95), _ms(res.uncached.p95), _ms(res.raw.p95) + raw_note,
         _ratio(res.raw.p95, res.uncached.p95), _ratio(res.cold.p95, res.uncached.p95)],
        ["runs", str(len(res.cold.samples)), str(len(res.uncached.samples)),
         str(len(res.raw.samples)), "", ""],
    ]
    return md_table(header, rows, right=set(range(1, 6)))


def page_table(results: list[PageResult]) -> str:
    header = ["callback (90 d)", "uncached median ms", "uncached p95 ms", "cached median ms",
              "cached p95 ms", "uncached ÷ cached",
              f"uncached ≤ {TARGET_PAGE_MS:.0f} ms: median / p95"]
    rows = [[p.label, _ms(p.uncached.median), _ms(p.uncached.p95), _ms(p.cached.median),
             _ms(p.cached.p95), _ratio(p.uncached.median, p.cached.median),
             " / ".join("yes" if t <= TARGET_PAGE_MS else "**no**"
                        for t in (p.uncached.median, p.uncached.p95))] for p in results]
    return md_table(header, rows, right=set(range(1, 6)))


def targets(res: ListResult, pages: list[PageResult]) -> tuple[list[list[str]], dict]:
    worst = max(pages, key=lambda p: p.uncached.median)
    worst95 = max(pages, key=lambda p: p.uncached.p95)
    speedup = res.raw.median / res.uncached.median
    checks = {
        "list_uncached": res.uncached.median <= TARGET_LIST_MS,
        "list_speedup": speedup >= TARGET_LIST_SPEEDUP,
        "page_uncached": worst.uncached.median <= TARGET_PAGE_MS,
    }
    p95_ok = worst95.uncached.p95 <= TARGET_PAGE_MS
    rows = [
        [f"list ≤ {TARGET_LIST_MS:.0f} ms uncached", f"median {_ms(res.uncached.median)} ms, "
         f"p95 {_ms(res.uncached.p95)} ms", _ok(checks["list_uncached"])],
        [f"list ≥ {TARGET_LIST_SPEEDUP:.0f}× faster than the raw path",
         f"{speedup:,.1f}× ({_ms(res.raw.median)} ÷ {_ms(res.uncached.median)} ms)",
         _ok(checks["list_speedup"])],
        [f"each patient-page callback ≤ {TARGET_PAGE_MS:.0f} ms uncached (90 d)",
         f"slowest median: {worst.label} {_ms(worst.uncached.median)} ms; slowest p95: "
         f"{worst95.label} {_ms(worst95.uncached.p95)} ms", _ok(checks["page_uncached"])
         + " (median)"],
        [f"(stricter) each patient-page callback's p95 ≤ {TARGET_PAGE_MS:.0f} ms uncached",
         ", ".join(f"{p.label} {_ms(p.uncached.p95)} ms" for p in pages
                   if p.uncached.p95 > TARGET_PAGE_MS) or "all within",
         _ok(p95_ok)],
        ["(not a target) list cold, all summaries recomputed",
         f"median {_ms(res.cold.median)} ms", "n/a"],
    ]
    checks["page_uncached_p95 (stricter, not the issue's)"] = p95_ok
    return rows, checks


# ----------------------------------------------------------------------------- main


def checkout() -> str:
    """HEAD and how many files differ from it: others may be editing the shared checkout."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent.parent).stdout.strip()

    changed = len(git("status", "--porcelain", "--untracked-files=no").splitlines())
    return f"HEAD {git('rev-parse', '--short', 'HEAD')} with {changed} uncommitted tracked files"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.clinic", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1000,
                        help="clinic patients on the demo clinician's care team (default 1000)")
    parser.add_argument("--days", type=int, default=120, help="days of data (default 120)")
    parser.add_argument("--clinic-hr-interval", type=int, default=900,
                        help="clinic patients' heart-rate sampling, s (default 900)")
    parser.add_argument("--hr-interval", type=int, default=60,
                        help="the demo patient's heart-rate sampling, s (default 60)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"PostgreSQL database, created if missing (default {DEFAULT_PG_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"the app's cache; flushed during the run (default "
                             f"{DEFAULT_REDIS_URL})")
    parser.add_argument("--fresh", action="store_true",
                        help="drop and reseed the database (else an existing seed is reused)")
    parser.add_argument("--repeat", type=int, default=15,
                        help="runs of the uncached list (default 15)")
    parser.add_argument("--cold-runs", type=int, default=3,
                        help="runs of the cold list (default 3)")
    parser.add_argument("--page-patients", type=int, default=20,
                        help="patients whose page callbacks are timed (default 20)")
    parser.add_argument("--page-rounds", type=int, default=2,
                        help="rounds over those patients (default 2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON results (default bench/out/clinic.json)")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    args = parser.parse_args(argv)
    if min(args.repeat, args.cold_runs, args.page_patients, args.page_rounds) < 1:
        parser.error("--repeat, --cold-runs, --page-patients and --page-rounds must be ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = os.getloadavg()
    tree_start = checkout()
    url = pg_url(args.pg_url)
    clinic = seed(args, url)
    if args.seed_only:
        clinic.engine.dispose()
        return 0
    with clinic.engine.connect() as conn:
        pg_version = conn.execute(text("SHOW server_version")).scalar_one().split()[0]
    r = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2, socket_timeout=5)
    r.flushdb()
    with tempfile.TemporaryDirectory(prefix="hd-bench-clinic-") as tmp:
        app, client = build_app(url, args.redis_url, tmp)
        log("measuring the triage list ...")
        listed = measure_list(app, client, clinic, args.repeat, args.cold_runs)
        patients, cgm, mix = page_patients(clinic.engine, args.page_patients)
        log(f"measuring patient-page callbacks over patients {patients} ...")
        pages, nights = measure_page(app, client, r, patients, args.page_rounds)
        glucose = next(p for p in pages if p.label == "glucose")
        if cgm:  # the others' glucose call finds nothing and hides the section
            pages.insert(pages.index(glucose) + 1,
                         glucose.only("glucose, CGM patients only", cgm))
        rows, checks = targets(listed, pages)
        profiles: list[str] = []
        if not checks["list_uncached"] or not checks["list_speedup"]:
            body = payload(app, callback_key(app, LIST_OUTPUT), BROWSER_VALUES)
            profiles.append("triage list, ours uncached, 5 calls\n"
                            + profile_callback(client, body, None))
        for p in pages:
            if p.uncached.p95 > TARGET_PAGE_MS and not p.label.startswith("glucose,"):
                slow_pid = p.pids[int(np.argmax(p.uncached.samples))]
                body = payload(app, p.key, {**BROWSER_VALUES, "patient-store.data": slow_pid,
                                            "clin-night.value": nights.get(slow_pid)})
                profiles.append(f"{p.label}, patient {slow_pid}, uncached, 5 calls\n"
                                + profile_callback(client, body, r))
        r.flushdb()
        app.server.extensions["healthdash.repository"].engine.dispose()
    load_end = os.getloadavg()
    tree_end = checkout()
    clinic.engine.dispose()

    cpus = os.cpu_count() or 1
    print(f"## Clinician review: {clinic.patients:,} patients on PostgreSQL\n")
    env = (f"PostgreSQL {pg_version}, Python {platform.python_version()}, {cpus} CPUs. "
           f"{clinic.patients:,} care-team patients × {args.days} days (+ the demo patient), "
           f"{clinic.rows:,} observations, {clinic.rollup_rows:,} daily rollup rows. "
           f"Load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_start)} at start, "
           f"{'/'.join(f'{x:.2f}' for x in load_end)} at end")
    if max(load_start[0], load_end[0]) > cpus / 2:
        env += " (other work was running: compare within a run rather than across runs)"
    print(env + ".\n")
    print(f"Checkout: {tree_start} at start, {tree_end} at end.\n")
    if clinic.seeded_s is not None:
        print(f"Seeding: {clinic.seeded_rows:,} rows in {clinic.seeded_s:,.0f} s "
              f"({clinic.seeded_rows / clinic.seeded_s:,.0f} rows/s).\n")
    else:
        print("Seeding: reused the seeded database.\n")
    print("### Triage list\n")
    print(list_table(listed) + "\n")
    print(f"Raw path check: figures equal to the stored summaries for **{listed.matched:,} of "
          f"{listed.patients:,}** patients; first page identical to ours: "
          f"{'yes' if listed.same_table else 'no'}.\n")
    for bad in listed.mismatches[:5]:
        print(f"- mismatch, patient {bad['patient_id']}:\n  ours `{json.dumps(bad['ours'])}`"
              f"\n  raw  `{json.dumps(bad['raw'])}`")
    if listed.mismatches:
        print()
    print(f"### Patient page ({RANGE}, {len(patients)} patients × {args.page_rounds} rounds = "
          f"{len(patients) * args.page_rounds} calls per cell)\n")
    print(f"Patients {', '.join(map(str, patients))}: {mix}. Uncached: Redis db flushed "
          "before the call (PostgreSQL's buffers warm after one untimed round); cached: the "
          "same call right after.\n")
    print(page_table(pages) + "\n")
    print("### Targets\n")
    print(md_table(["target", "measured", "result"], rows, right=set()) + "\n")
    issue = [ok for name, ok in checks.items() if "stricter" not in name]
    print(f"The issue's targets met (medians): {'yes' if all(issue) else 'NO'}; every "
          f"callback's p95 within {TARGET_PAGE_MS:.0f} ms: "
          f"{'yes' if all(checks.values()) else 'no'}. "
          f"Whole run: {time.perf_counter() - started:.0f} s.")
    for text_ in profiles:
        print(f"\n```text\n{text_}```")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "postgresql": pg_version, "cpus": cpus, "load_start": load_start, "load_end": load_end,
        "checkout_start": tree_start, "checkout_end": tree_end,
        "patients": clinic.patients, "days": args.days, "observations": clinic.rows,
        "rollup_daily_rows": clinic.rollup_rows, "seed_s": clinic.seeded_s,
        "list": {"cold": listed.cold.as_json(), "uncached": listed.uncached.as_json(),
                 "raw": listed.raw.as_json(), "raw_matched": listed.matched,
                 "raw_checked": listed.patients, "same_first_page": listed.same_table,
                 "mismatches": listed.mismatches[:20]},
        "page": {"range": RANGE, "patients": patients, "mix": mix, "rounds": args.page_rounds,
                 "callbacks": {p.label: {"uncached": p.uncached.as_json(),
                                         "cached": p.cached.as_json()} for p in pages}},
        "targets": checks, "profiles": profiles,
    }, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
