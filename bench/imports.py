"""Apple Health import, side by side: ours vs healthkit-to-sqlite vs a bare streaming parse.

    .venv/bin/python -m bench.imports [--sizes 1000000 5000000] [--work-dir DIR]
    .venv/bin/python -m bench.imports --sizes 200000          # a quick check (~3 min)
    .venv/bin/python -m bench.imports --one ours-sqlite FILE  # one run of one tool, JSON out
    .venv/bin/python -m bench.imports --profile FILE          # cProfile of parser and writer

For every size, one run of each tool on the same generated export.zip, each in its own
process, so that wall time and peak RSS belong to that tool alone:

- bare parse (the floor): expat fed 1 MiB chunks straight from the zip member, with a start
  handler that only counts `Record` elements; no DTD handling (the generated DTD is
  well-formed, and expat has nothing to expand in it);
- healthkit-to-sqlite, the established open tool (Apache-2.0), from its own throwaway venv
  (`--h2s`; the default /tmp/h2s-venv is created with pip when missing), never installed
  into the project;
- ours: `data.importer.run_import` into a fresh SQLite file and into a fresh PostgreSQL
  database (`--pg-url`, created before and dropped after each run). The child process
  migrates the empty database, adds the patient, queues the job and runs it: the parser in
  its spawned child, observations, workouts and rollups written by the parent.

Peak RSS is that of the tool's process as `wait4` reports it (GNU time's %M): Linux gives
the larger of the process's own peak and that of every descendant it waited for, so for
ours it is max(writer, parser child); the notes give both, the parser's from sampling its
VmHWM (its `getrusage` figure would include the writer's RSS at the moment it was forked).
The PostgreSQL server's memory is not counted; SQLite's lives in the writer and is.

Records are the file's Record elements, nested ones included (`Truth.total_records`);
records/s = records / wall seconds of the whole process (interpreter start-up, migrations
and rollups included). Other engineers edit the project while it runs, so the output
fingerprints the importer's code at start and end and says if it changed in between.

Generated exports are cached in the work dir (`export-<N>-seed<S>.zip` plus a `.json` with
their truth) and reused. A tool whose run at a size is projected (linearly, from its rate at
the largest size it already ran) to take more than `--max-minutes` is skipped there, and the
table says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import threading
import time
import xml.parsers.expat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000_000, 5_000_000)
DEFAULT_WORK_DIR = Path("/tmp/hd-bench-imports")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hd_bench_imports"
DEFAULT_H2S = "/tmp/h2s-venv/bin/healthkit-to-sqlite"
EXPORT_MEMBER = "apple_health_export/export.xml"
BARE_CHUNK = 2**20
TIME = "/usr/bin/time"  # GNU time, for the peak RSS of each tool's process tree
MAX_MINUTES = 15.0

TARGET_VS_H2S = 5.0  # ours ≥ 5× healthkit-to-sqlite records/s
TARGET_PG_VS_BARE = 0.5  # ours into PostgreSQL ≥ 0.5 × bare-parse records/s
TARGET_RSS_MB = 300.0  # peak RSS of ours, every size

BARE, H2S, OURS_SQLITE, OURS_PG = "bare", "h2s", "ours-sqlite", "ours-postgresql"
TOOLS = (BARE, H2S, OURS_SQLITE, OURS_PG)
LABELS = {
    BARE: "bare parse (floor)",
    H2S: "healthkit-to-sqlite",
    OURS_SQLITE: "ours → SQLite",
    OURS_PG: "ours → PostgreSQL",
}


def log(message: str) -> None:
    """Progress on stderr, so that stdout is only the Markdown."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ exports (cached)


@dataclass(frozen=True)
class Export:
    """A generated export.zip and what is in it."""

    path: Path
    asked: int
    total_records: int
    workouts: int
    zip_bytes: int
    xml_bytes: int


def ensure_export(work_dir: Path, records: int, seed: int) -> Export:
    """The cached export of about `records` Records, generated (atomically) when missing."""
    path = work_dir / f"export-{records}-seed{seed}.zip"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        from bench.applehealth_gen import generate_export

        log(f"generating {path} ({records:,} records) ...")
        began = time.perf_counter()
        partial = path.with_suffix(".zip.partial")
        truth = generate_export(partial, records, seed)
        partial.replace(path)
        meta.write_text(json.dumps({
            "records": records, "seed": seed, "total_records": truth.total_records,
            "workouts": truth.workouts,
        }))
        log(f"generated in {time.perf_counter() - began:.0f} s")
    data = json.loads(meta.read_text())
    with zipfile.ZipFile(path) as archive:
        xml_bytes = archive.getinfo(EXPORT_MEMBER).file_size
    return Export(path, records, data["total_records"], data["workouts"],
                  path.stat().st_size, xml_bytes)


# ------------------------------------------------------------------ databases


def sqlite_path(work_dir: Path) -> Path:
    """Where ours → SQLite writes."""
    return work_dir / "ours.sqlite"


def remove_sqlite(path: Path) -> None:
    """Delete a SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _admin_dsn(url: str) -> tuple[str, str]:
    """(libpq DSN of the `postgres` maintenance database, name of the bench database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "postgresql" or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise SystemExit(f"--pg-url must be postgresql://…/<plain name>, got {url!r}")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), name


def recreate_pg_database(url: str, create: bool = True) -> None:
    """Drop the bench database if it exists, then (when `create`) make it anew."""
    import psycopg

    dsn, name = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def pg_version(url: str) -> str:
    """The server's version, for the environment line."""
    import psycopg

    dsn, _ = _admin_dsn(url)
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


# ------------------------------------------------------------------ one run (child side)


def bare_parse(path: Path) -> int:
    """Count Record elements with expat and nothing else: the floor of any streaming import."""
    count = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal count
        if name == "Record":
            count += 1

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    with zipfile.ZipFile(path) as archive, archive.open(EXPORT_MEMBER) as stream:
        while chunk := stream.read(BARE_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return count


class ChildPeaks(threading.Thread):
    """Samples the peak RSS (VmHWM) of this process's multiprocessing children.

    `getrusage(RUSAGE_CHILDREN)` cannot tell the parser's own peak: Linux counts the pages
    a forked child shares with its parent until exec, so the figure is at least the
    writer's RSS when it started the parser. VmHWM belongs to the exec'd image alone.
    """

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(name="bench-child-peaks", daemon=True)
        self.interval = interval
        self.peak_kib = 0
        self.pid = os.getpid()
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(self.interval):
            self.sample()

    def stop(self) -> int:
        """Stop sampling; the largest VmHWM seen, in KiB (0 when no child was seen)."""
        self.stopped.set()
        self.join()
        return self.peak_kib

    def sample(self) -> None:
        """One pass over /proc for children started by multiprocessing's spawn."""
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_bytes()
                if int(stat.rsplit(b")", 1)[1].split()[1]) != self.pid:
                    continue
                if b"spawn_main" not in Path(entry.path, "cmdline").read_bytes():
                    continue  # the resource tracker, or a child not yet exec'd
                found = re.search(rb"VmHWM:\s+(\d+)", Path(entry.path, "status").read_bytes())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            if found:
                self.peak_kib = max(self.peak_kib, int(found.group(1)))


def ours(path: Path, url: str, profiler: Any = None) -> dict[str, Any]:
    """Migrate the (fresh) database, add a patient, queue and run one Apple Health import;
    `profiler` (a cProfile.Profile) is enabled around the import itself only."""
    began = time.perf_counter()
    peaks = ChildPeaks()
    peaks.start()
    from data.access import Principal
    from data.db import make_engine
    from data.importer import run_import
    from data.migrate import upgrade
    from data.repository import Repository

    engine = make_engine(url)
    upgrade(engine)
    repo = Repository(engine)
    patient_id = repo.create_patient("Bench", "Europe/Paris")
    job = repo.create_job(Principal.system(), patient_id, "apple_health", path.name,
                          str(path), path.stat().st_size)
    ready = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    job = run_import(repo, job.id)
    if profiler is not None:
        profiler.disable()
    done = time.perf_counter()
    engine.dispose()
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "state": job.state, "message": job.message, "records_done": job.records_done,
        "rows_inserted": job.rows_inserted, "rows_duplicate": job.rows_duplicate,
        "setup_s": ready - began, "import_s": done - ready,
        "writer_cpu_s": mine.ru_utime + mine.ru_stime,
        "parser_cpu_s": children.ru_utime + children.ru_stime,
        "parser_hwm_kib": peaks.stop(),
    }


def run_one(tool: str, path: Path, url: str | None, work_dir: Path) -> dict[str, Any]:
    """Child side of a measurement: run `tool` once on `path`; the result as a dict."""
    if tool == BARE:
        result: dict[str, Any] = {"records": bare_parse(path)}
    elif tool == OURS_SQLITE:
        result = ours(path, url or f"sqlite:///{sqlite_path(work_dir)}")
    elif tool == OURS_PG:
        result = ours(path, url or DEFAULT_PG_URL)
    else:
        raise SystemExit(f"--one runs {BARE}, {OURS_SQLITE} or {OURS_PG}, not {tool!r}")
    # ru_maxrss is in KiB on Linux; the children are the parser process (joined by now)
    result["self_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["children_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result


# ------------------------------------------------------------------ one run (parent side)


@dataclass
class Run:
    """One tool at one size: measured, skipped or failed."""

    tool: str
    export: Export
    wall_s: float | None = None
    rss_kib: int | None = None
    cpu_s: float | None = None  # user + system of the process and its waited-for children
    detail: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # why it was not run / did not finish

    @property
    def ok(self) -> bool:
        """Measured and finished cleanly."""
        return self.wall_s is not None and self.skipped is None

    @property
    def rate(self) -> float | None:
        """Records of the file per wall second."""
        return self.export.total_records / self.wall_s if self.ok and self.wall_s else None

    @property
    def rss_mb(self) -> float | None:
        """Peak RSS in MiB."""
        return self.rss_kib / 1024 if self.rss_kib is not None else None


def measure(cmd: list[str], log_path: Path) -> tuple[int, float, int, float, str]:
    """Run `cmd` under /usr/bin/time; (exit code, wall s, peak RSS KiB, CPU s, stdout).

    Peak RSS is GNU time's %M: `wait4` on the tool's process, so the larger of its own peak
    and that of each descendant it waited for. The tool is started by time, not by us:
    Linux carries the RSS of the forking process over into a child's peak until exec, and
    ours is large after generating an export. stdout/stderr go to files so that a chatty
    tool cannot block.
    """
    out_path, rss_path = log_path.with_suffix(".out"), log_path.with_suffix(".rss")
    with out_path.open("wb") as out, log_path.open("wb") as err:
        began = time.perf_counter()
        code = subprocess.run([TIME, "-f", "%M %U %S", "-o", str(rss_path), *cmd],
                              cwd=ROOT, stdout=out, stderr=err, check=False).returncode
        wall = time.perf_counter() - began
    # the last line: time writes "Command exited with non-zero status N" before it
    rss, user, system = rss_path.read_text().strip().splitlines()[-1].split()
    return code, wall, int(rss), float(user) + float(system), out_path.read_text(
        errors="replace")


def h2s_rows(db_path: Path) -> dict[str, int]:
    """What healthkit-to-sqlite stored: rows of its per-type record tables, and workouts."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        records = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                      for t in tables if t.startswith("r"))
        workouts = (conn.execute("SELECT count(*) FROM workouts").fetchone()[0]
                    if "workouts" in tables else 0)
    finally:
        conn.close()
    return {"records": records, "workouts": workouts}


def run_tool(tool: str, export: Export, args: argparse.Namespace) -> Run:
    """Prepare a fresh target, run one tool on one export as its own process, clean up."""
    run = Run(tool, export)
    work: Path = args.work_dir
    log_path = work / f"{tool}-{export.asked}.log"
    h2s_db = work / "h2s.db"
    me = [sys.executable, "-m", "bench.imports", "--work-dir", str(work)]
    if tool == BARE:
        cmd = [*me, "--one", BARE, str(export.path)]
    elif tool == H2S:
        remove_sqlite(h2s_db)
        cmd = [args.h2s, "--silent", str(export.path), str(h2s_db)]
    elif tool == OURS_SQLITE:
        remove_sqlite(sqlite_path(work))
        cmd = [*me, "--one", OURS_SQLITE, str(export.path)]
    else:
        recreate_pg_database(args.pg_url)
        cmd = [*me, "--one", OURS_PG, str(export.path), "--db-url", args.pg_url]
    log(f"{LABELS[tool]} on {export.total_records:,} records ...")
    try:
        code, run.wall_s, run.rss_kib, run.cpu_s, out = measure(cmd, log_path)
        if code != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            run.skipped = f"failed (exit {code}: {' '.join(tail)[:120]})"
        elif tool == H2S:
            run.detail = h2s_rows(h2s_db)
        else:
            run.detail = json.loads(out.strip().splitlines()[-1])
            if tool != BARE and run.detail["state"] != "done":
                run.skipped = f"job {run.detail['state']}: {run.detail['message']}"
    finally:
        if tool == H2S:
            remove_sqlite(h2s_db)
        elif tool == OURS_SQLITE:
            remove_sqlite(sqlite_path(work))
        elif tool == OURS_PG:
            recreate_pg_database(args.pg_url, create=False)
    log(f"  {run.wall_s:.1f} s, {run.rss_mb:.0f} MiB"
        + (f" — {run.skipped}" if run.skipped else f", {run.rate:,.0f} records/s"))
    return run


def projected_minutes(previous: Run | None, export: Export) -> float | None:
    """Minutes a run at `export` would take at the rate `previous` had; None if unknown."""
    if previous is None or not previous.ok or previous.wall_s is None:
        return None
    return previous.wall_s * export.total_records / previous.export.total_records / 60


# ------------------------------------------------------------------ report


def md_table(headers: list[str], rows: list[list[str]], left: int = 2) -> str:
    """A Markdown table; the first `left` columns left-aligned, the rest right-aligned."""
    align = ["---" if i < left else "---:" for i in range(len(headers))]
    lines = [headers, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def size_label(export: Export) -> str:
    """"1M (1,000,123 records)" style label of one size."""
    n = export.asked
    short = f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"
    return f"{short} ({export.total_records:,})"


def results_table(by_size: list[list[Run]]) -> tuple[str, list[str]]:
    """The side-by-side table, and footnotes for it."""
    rows: list[list[str]] = []
    notes: list[str] = []
    dagger = False
    h2s_rate: float | None = None  # at the largest size it ran: rates barely depend on size
    h2s_size = ""
    for runs in by_size:
        by_tool = {r.tool: r for r in runs}
        bare, h2s = by_tool[BARE], by_tool[H2S]
        here = h2s.rate is not None
        if here:
            h2s_rate, h2s_size = h2s.rate, size_label(h2s.export).split()[0]
        for run in runs:
            label = size_label(run.export)
            if not run.ok:
                wall = f"{run.wall_s:.1f}" if run.wall_s is not None and "failed" in (
                    run.skipped or "") else "—"
                rows.append([label, LABELS[run.tool], run.skipped or "—", wall, "—", "—", "—"])
                continue
            assert run.rate is not None and run.rss_mb is not None and run.wall_s is not None
            if h2s_rate is None:
                ratio = "—"
            else:
                ratio = f"{run.rate / h2s_rate:.1f}×" + ("" if here else " †")
                dagger = dagger or not here
            share = f"{run.rate / bare.rate:.0%}" if bare.rate else "—"
            rows.append([label, LABELS[run.tool], f"{run.rate:,.0f}", f"{run.wall_s:.1f}",
                         f"{run.rss_mb:.0f}", ratio, share])
    if dagger:
        notes.append(f"† healthkit-to-sqlite did not run at that size: ratio against its rate "
                     f"at {h2s_size} (its rate is flat in the file's size).")
    table = md_table(["size (records)", "tool", "records/s", "wall s", "peak RSS MB",
                      "ratio vs healthkit-to-sqlite", "share of bare-parse rate"], rows)
    return table, notes


def detail_notes(by_size: list[list[Run]]) -> list[str]:
    """What each run stored and how its time and memory split, for checking the table."""
    lines = []
    for runs in by_size:
        for run in runs:
            d, label = run.detail, f"{size_label(run.export).split()[0]} {LABELS[run.tool]}"
            if not run.ok or not d:
                continue
            if run.tool == BARE:
                check = "= the file's" if d["records"] == run.export.total_records else (
                    f"≠ the file's {run.export.total_records:,}")
                lines.append(f"- {label}: counted {d['records']:,} Record elements ({check}); "
                             f"CPU {run.cpu_s:.1f} s.")
            elif run.tool == H2S:
                lines.append(f"- {label}: {d['records']:,} rows in its r* tables, "
                             f"{d['workouts']:,} workouts; CPU {run.cpu_s:.1f} s.")
            else:
                lines.append(
                    f"- {label}: job {d['state']}, {d['records_done']:,} records read, "
                    f"{d['rows_inserted']:,} observation rows stored, duplicates "
                    f"{d['rows_duplicate']:,}; setup (migrate, patient, job) "
                    f"{d['setup_s']:.1f} s, import {d['import_s']:.1f} s; "
                    f"CPU writer {d['writer_cpu_s']:.1f} s, parser "
                    f"child {d['parser_cpu_s']:.1f} s; peak RSS writer "
                    f"{d['self_rss_kib'] / 1024:.0f} MB, parser child "
                    f"{d['parser_hwm_kib'] / 1024:.0f} MB.")
    return lines


def targets_table(by_size: list[list[Run]]) -> tuple[str, bool]:
    """The targets, each met / missed / not measured."""
    rows: list[list[str]] = []
    ok_all = True

    def add(target: str, measured: list[str], verdict: bool | None) -> None:
        nonlocal ok_all
        ok_all = ok_all and bool(verdict)
        result = "not measured" if verdict is None else ("met" if verdict else "**missed**")
        rows.append([target, "; ".join(measured) or "—", result])

    ratios, shares, rss = [], [], []
    ratio_ok = share_ok = rss_ok = True
    for runs in by_size:
        by_tool = {r.tool: r for r in runs}
        size = size_label(runs[0].export).split()[0]
        h2s, bare = by_tool[H2S].rate, by_tool[BARE].rate
        for tool in (OURS_SQLITE, OURS_PG):
            run = by_tool[tool]
            name = "SQLite" if tool == OURS_SQLITE else "PostgreSQL"
            if run.rate is not None and h2s:
                ratios.append(f"{size} {name} {run.rate / h2s:.1f}×")
                ratio_ok = ratio_ok and run.rate >= TARGET_VS_H2S * h2s
            if run.ok and run.rss_mb is not None:
                rss.append(f"{size} {name} {run.rss_mb:.0f} MB")
                rss_ok = rss_ok and run.rss_mb < TARGET_RSS_MB
            else:
                rss.append(f"{size} {name} {run.skipped or 'not run'}")
                rss_ok = False
            if tool == OURS_PG and run.rate is not None and bare:
                shares.append(f"{size} {run.rate / bare:.0%} of the floor")
                share_ok = share_ok and run.rate >= TARGET_PG_VS_BARE * bare
    add(f"ours ≥ {TARGET_VS_H2S:g}× healthkit-to-sqlite records/s (sizes where both ran)",
        ratios, ratio_ok if ratios else None)
    add(f"ours into PostgreSQL ≥ {TARGET_PG_VS_BARE:g} × bare-parse records/s", shares,
        share_ok if shares else None)
    add(f"ours peak RSS < {TARGET_RSS_MB:g} MB at every size (max of writer and parser)", rss,
        rss_ok if rss else None)
    return md_table(["target", "measured", "result"], rows, left=3), ok_all


def code_fingerprint() -> str:
    """A short hash of the code under test (data/, and the generator of the exports)."""
    digest = hashlib.sha1()
    for path in sorted([*ROOT.joinpath("data").rglob("*.py"),
                        *ROOT.joinpath("bench").glob("applehealth_gen*.py")]):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def h2s_version(h2s: str) -> str:
    """healthkit-to-sqlite's version, read from its venv's pip metadata."""
    pip = Path(h2s).with_name("pip")
    try:
        out = subprocess.run([str(pip), "show", "healthkit-to-sqlite"], capture_output=True,
                             text=True, timeout=60).stdout
    except OSError:
        return "?"
    found = re.search(r"^Version:\s*(\S+)", out, re.MULTILINE)
    return found.group(1) if found else "?"


def ensure_h2s(h2s: str) -> None:
    """Create healthkit-to-sqlite's throwaway venv when the default one is missing (a
    wiped /tmp); any other path must exist already."""
    if h2s != DEFAULT_H2S:
        raise SystemExit(f"{h2s} not found")
    venv = Path(h2s).parent.parent
    log(f"creating {venv} with healthkit-to-sqlite ...")
    try:
        subprocess.run(["python3", "-m", "venv",
                        str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                        "healthkit-to-sqlite"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"could not create {venv} ({exc}): python3 -m venv {venv} && "
                         f"{venv}/bin/pip install healthkit-to-sqlite") from None


# ------------------------------------------------------------------ profile


def profile(path: Path, urls: dict[str, str], top: int) -> str:
    """cProfile of the parser alone, then of the writer alone into each database.

    The writer is our `run_import` fed the batches parsed beforehand (the pipeline's
    `batches` is swapped for a replay), so nothing waits on the parser and only the
    import is profiled (not the migrations). Each database in `urls` must be fresh.
    """
    import cProfile

    import data.importer
    from data.collectors.apple_health import Report, open_export, parse

    parser_prof = cProfile.Profile()
    report = Report()
    began = time.perf_counter()
    parser_prof.enable()
    with open_export(path) as source:
        batches = list(parse(source, report))
    parser_prof.disable()
    parse_s = time.perf_counter() - began
    rows = sum(len(b.rows) for b in batches)
    log(f"parsed {rows:,} rows in {len(batches)} batches ({parse_s:.1f} s under cProfile)")
    parts = [_stats(parser_prof, f"Parser alone (`parse(open_export(path), Report())`, "
                                 f"{rows:,} rows in {len(batches)} batches)", parse_s, top)]

    from data.collectors.apple_health_types import RowColumns

    for batch in batches:  # as the pipeline hands them over: rows as columns
        batch.rows = RowColumns.from_rows(batch.rows)
    original = data.importer.batches
    data.importer.batches = lambda _path, rep, *_a, **_k: _replay(batches, report, rep)
    try:
        for name, url in urls.items():
            writer_prof = cProfile.Profile()
            result = ours(path, url, writer_prof)
            log(f"stored into {name}: {result}")
            parts.append(_stats(writer_prof, f"Writer alone into {name} (`run_import` on the "
                                             "pre-parsed batches)", result["import_s"], top))
    finally:
        data.importer.batches = original
    return "\n".join(parts)


def _stats(prof: Any, title: str, seconds: float, top: int) -> str:
    """A profile as Markdown: the top functions by own time, then ours by cumulative time."""
    import io
    import pstats

    def table(sort: str, *restrict: Any) -> str:
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        if sort == "tottime":
            stats.strip_dirs()
        stats.sort_stats(sort).print_stats(*restrict)
        body = buf.getvalue()
        return body[body.find("   ncalls"):].rstrip() if "   ncalls" in body else body.rstrip()

    own = table("tottime", top)
    cumulative = table("cumulative", re.escape(str(ROOT / "data")), top)
    cumulative = cumulative.replace(str(ROOT) + "/", "")
    return (f"### {title}: {seconds:.1f} s under cProfile\n\nTop {top} by own time:\n\n"
            f"```\n{own}\n```\n\nThe project's functions by cumulative time:\n\n"
            f"```\n{cumulative}\n```\n")


def _replay(batches: list, parsed: Any, report: Any) -> Iterator[Any]:
    """Hand out pre-parsed batches the way `import_pipeline.batches` does, report included."""
    yield from batches
    report.__dict__.update(parsed.__dict__)


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="about this many Records per export (default 1000000 5000000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"cached exports, SQLite files, logs (default {DEFAULT_WORK_DIR})")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"throwaway PostgreSQL database, created and dropped around each "
                             f"run (default {DEFAULT_PG_URL})")
    parser.add_argument("--h2s", default=DEFAULT_H2S,
                        help=f"healthkit-to-sqlite executable in its own venv "
                             f"(default {DEFAULT_H2S})")
    parser.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                        help="skip a tool at a size where its run is projected to take longer "
                             f"(default {MAX_MINUTES:g})")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS),
                        help="run only these (the others show as not run; default all)")
    parser.add_argument("--one", choices=(BARE, OURS_SQLITE, OURS_PG),
                        help="internal: run one tool once on FILE, print a JSON line, exit")
    parser.add_argument("--db-url", help="with --one: the (fresh) database to import into")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the parser alone and the writer alone (into SQLite and "
                             "PostgreSQL) on FILE; print the top functions")
    parser.add_argument("--top", type=int, default=25, help="with --profile: rows per profile")
    parser.add_argument("file", nargs="?", type=Path, help="export.zip for --one / --profile")
    args = parser.parse_args(argv)
    if (args.one or args.profile) and args.file is None:
        parser.error("--one and --profile need FILE")
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure every tool at every size, print the tables and the targets."""
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.one, args.file, args.db_url, args.work_dir)))
        return 0
    if args.profile:
        lite = args.work_dir / "profile.sqlite"
        remove_sqlite(lite)
        recreate_pg_database(args.pg_url)
        try:
            print(profile(args.file, {"SQLite": f"sqlite:///{lite}",
                                      "PostgreSQL": args.pg_url}, args.top))
        finally:
            remove_sqlite(lite)
            recreate_pg_database(args.pg_url, create=False)
        return 0
    if H2S in args.tools and not Path(args.h2s).exists():
        ensure_h2s(args.h2s)

    started = time.perf_counter()
    load_start = os.getloadavg()
    code_start = code_fingerprint()
    server = pg_version(args.pg_url)
    last: dict[str, Run] = {}
    by_size: list[list[Run]] = []
    for size in sorted(args.sizes):
        export = ensure_export(args.work_dir, size, args.seed)
        runs = []
        for tool in TOOLS:
            if tool not in args.tools:
                runs.append(Run(tool, export, skipped="not run (--tools)"))
                continue
            minutes = projected_minutes(last.get(tool), export)
            if minutes is not None and minutes > args.max_minutes:
                log(f"{LABELS[tool]}: skipped at {size:,} (projected {minutes:.0f} min)")
                runs.append(Run(tool, export, skipped=f"skipped (projected {minutes:.0f} min)"))
                continue
            run = run_tool(tool, export, args)
            runs.append(run)
            if run.ok:
                last[tool] = run
        by_size.append(runs)
    load_end = os.getloadavg()
    code_end = code_fingerprint()

    cpus = os.cpu_count() or 1
    loads = " / ".join(f"{a:.2f}" for a in load_start), " / ".join(f"{a:.2f}" for a in load_end)
    print("## Apple Health import: ours vs healthkit-to-sqlite vs a bare streaming parse\n")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL "
          f"{server}, healthkit-to-sqlite {h2s_version(args.h2s)}, {cpus} CPUs. One run per "
          f"cell, each tool in its own process. Load average (1 / 5 / 15 min) at start "
          f"{loads[0]}, at end {loads[1]}"
          + (" (other work was running: expect noisy timings)."
             if max(load_start[0], load_end[0]) > cpus / 2 else ".")
          + (f" Code under test: {code_start}." if code_start == code_end else
             f" **The code under test changed during the run** ({code_start} → {code_end}: "
             "other engineers' edits), so rows may not measure the same code.") + "\n")
    table, notes = results_table(by_size)
    print(table + "\n")
    print("records/s = Record elements in the file (nested ones included) / wall seconds of "
          "the whole process; peak RSS MB (2^20 bytes) is GNU time's %M (`wait4`) of the "
          "tool's process: for ours the larger of writer and parser child (split below); the "
          "PostgreSQL server is not counted. Exports: " + "; ".join(
              f"{size_label(runs[0].export).split()[0]} = {runs[0].export.xml_bytes / 1e6:,.0f} "
              f"MB of XML in a {runs[0].export.zip_bytes / 1e6:,.0f} MB zip, "
              f"{runs[0].export.workouts:,} workouts" for runs in by_size) + ".\n")
    for note in notes:
        print(note + "\n")
    print("\n".join(detail_notes(by_size)) + "\n")
    targets, ok = targets_table(by_size)
    print("### Targets\n")
    print(targets + "\n")
    print(f"All targets met: {'yes' if ok else 'NO'}. Whole run: "
          f"{(time.perf_counter() - started) / 60:.1f} min.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
