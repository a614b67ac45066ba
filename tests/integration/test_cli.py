"""The `healthdash` command line, run as a real process."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_audit_log import _without_guard

ROOT = Path(__file__).resolve().parents[2]


def healthdash(tmp_path: Path, *args: str, stdin: str | None = None,
               database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture
def migrated(tmp_path):
    result = healthdash(tmp_path, "init-db")
    assert result.returncode == 0, result.stderr
    assert "database: sqlite" in result.stdout
    return tmp_path


def test_every_command_has_help(tmp_path):
    for command in ("init-db", "seed-demo", "create-user", "export", "run",
                    "recompute-rollups"):
        result = healthdash(tmp_path, command, "--help")
        assert result.returncode == 0 and "usage: healthdash " + command in result.stdout


def test_create_user_prints_the_user_and_patient_ids(migrated):
    result = healthdash(migrated, "create-user", "Pat@Example.org", "--role", "patient",
                        "--name", "Pat Example", "--password-stdin", stdin="long enough pw\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["user id: 1", "patient id: 1"]
    again = healthdash(migrated, "create-user", "pat@example.org", "--role", "clinician",
                       "--password-stdin", stdin="long enough pw\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = healthdash(migrated, "create-user", "x@example.org", "--role", "admin",
                       "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_seed_then_export_prints_one_row_per_point(migrated):
    seeded = healthdash(migrated, "seed-demo", "--patients", "1", "--days", "20")
    assert seeded.returncode == 0, seeded.stderr
    assert "patient@demo.healthdash.example" in seeded.stdout
    assert "already present" in healthdash(migrated, "seed-demo", "--patients", "1",
                                           "--days", "20").stdout
    daily = healthdash(migrated, "export", "--patient", "1", "--metric", "steps",
                       "--resolution", "day")
    rows = list(csv.DictReader(io.StringIO(daily.stdout)))
    assert 19 <= len(rows) <= 21
    assert {r["source"] for r in rows} <= {"Apple Watch", "iPhone"}
    assert all(r["unit"] == "count" and float(r["value"]) > 0 for r in rows)
    # a day the watch counted most steps on (the demo leaves the watch at home some days)
    day = max((i for i in range(len(rows) - 1) if rows[i]["source"] == "Apple Watch"),
              key=lambda i: float(rows[i]["value"]))
    raw = healthdash(migrated, "export", "--patient", "1", "--metric", "heart_rate",
                     "--resolution", "raw", "--format", "json", "--start",
                     rows[day]["time_local"][:10], "--end", rows[day + 1]["time_local"][:10])
    body = json.loads(raw.stdout)
    assert body["unit"] == "bpm" and body["resolution"] == "raw"
    assert 600 < len(body["points"]) <= 1440, "a day of minute-level heart rate while worn"
    assert {p["time_local"][:10] for p in body["points"]} == {rows[day]["time_local"][:10]}


def test_export_explains_bad_input(migrated):
    bad = healthdash(migrated, "export", "--patient", "99", "--metric", "steps")
    assert bad.returncode == 2 and "no patient with id 99" in bad.stderr


def test_init_db_on_postgresql_reports_capabilities(tmp_path, pg_database):
    result = healthdash(tmp_path, "init-db", database_url=pg_database)
    assert result.returncode == 0, result.stderr
    assert "database: postgresql" in result.stdout
    assert "no TimescaleDB" in result.stdout  # not packaged on this machine
    assert healthdash(tmp_path, "init-db", database_url=pg_database).returncode == 0


# --- audit ------------------------------------------------------------------------------

def _audit_repo(url: str):
    from data.access import Principal
    from data.db import make_engine
    from data.repository import Repository

    repo = Repository(make_engine(url))
    doc = Principal(7, "clinician")
    for i in range(5):
        repo.record("read", actor=doc, actor_label="doc@example.org", patient_id=1,
                    target=f"callback panel-{i}", detail={"range": "90d"}, ip="127.0.0.1")
    return repo


@pytest.fixture(params=["sqlite", "postgres"])
def audit_db(request, tmp_path):
    """A migrated database URL on each dialect, with five audit events."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
        assert healthdash(tmp_path, "init-db", database_url=url).returncode == 0
    else:
        from tests.conftest import _truncate

        _truncate(request.getfixturevalue("pg_engine"))
        url = request.getfixturevalue("pg_database")
    repo = _audit_repo(url)
    yield url, repo
    repo.engine.dispose()


@pytest.mark.parametrize("sql, problem, checked", [
    ("UPDATE audit_events SET target = 'callback nothing' WHERE id = 3",
     "event 3 was changed after it was written", 2),
    ("DELETE FROM audit_events WHERE id = 2", "events 2–2 are missing", 1),
])
def test_audit_verify_finds_a_tampered_event(tmp_path, audit_db, sql, problem, checked):
    url, repo = audit_db
    intact = healthdash(tmp_path, "audit", "verify", database_url=url)
    assert intact.returncode == 0, intact.stderr
    head = repo.verify_audit().head
    assert intact.stdout.splitlines() == ["audit log intact: 5 events checked",
                                          f"head hash: {head}"]
    _without_guard(repo, sql)
    broken = healthdash(tmp_path, "audit", "verify", database_url=url)
    print(f"$ healthdash audit verify   # {url.split(':')[0]}, after: {sql}\n{broken.stdout}")
    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.splitlines()
    assert lines[0] == f"audit log BROKEN at event 3: {problem}"
    assert lines[1] == f"events checked before it: {checked}"


def test_cli_export_is_audited_as_the_operator(tmp_path, audit_db):
    url, repo = audit_db
    from data.access import Principal

    pid = repo.create_patient("Cli Example", "UTC")
    result = healthdash(tmp_path, "export", "--patient", str(pid), "--metric", "steps",
                        database_url=url)
    assert result.returncode == 0, result.stderr
    event = repo.audit_events(Principal(1, "admin"), action="read", limit=1)[0]
    assert event.target == "cli export" and event.patient_id == pid
    assert event.actor_role == "system" and event.actor.startswith("system (")
    assert event.detail == {"format": "csv", "metric": "steps", "resolution": "day"}
    assert healthdash(tmp_path, "audit", "verify", database_url=url).returncode == 0
