"""The import job against the generator's ground truth, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import time
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from bench.applehealth_gen import generate_export
from data.access import Principal
from data.collectors.apple_health_types import RowColumns
from data.dispatch import run_in_process
from data.importer import run_import
from data.queries import SeriesQuery
from data.repository import ObservationBatch, Repository
from data.repository.observations import subtract_windows
from data.rollups import RawRows, compute, compute_hour_and_day
from data.schema import observations
from tests.conftest import _truncate

SYSTEM = Principal.system()


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("ah") / "export.zip"
    return path, generate_export(path, records=30_000, seed=11)


def stored(repo) -> int:
    with repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(observations)).scalar_one()


def new_job(repo, patient, path):
    return repo.create_job(SYSTEM, patient, "apple_health", path.name, str(path),
                           path.stat().st_size)


def test_import_matches_the_ground_truth_and_is_idempotent(repo, export):
    path, truth = export
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    job = run_import(repo, new_job(repo, patient, path).id)
    assert job.state == "done" and job.records_done == truth.total_records
    steps = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day",
                                            max_points=None))
    days = {datetime.fromtimestamp(int(t), UTC).date().isoformat(): v
            for t, v in zip(steps.t_local, steps.value, strict=True)}
    for day, expected in truth.daily_steps.items():
        assert days[day] == pytest.approx(expected, rel=0.01), day
    bp = repo.series(SYSTEM, SeriesQuery(patient, "bp_systolic", resolution="raw",
                                         max_points=None))
    assert sorted(bp.value.tolist()) == sorted(s for _t, s, _d in truth.bp_readings)
    weights = repo.series(SYSTEM, SeriesQuery(patient, "body_mass", resolution="raw",
                                              max_points=None))
    assert weights.value.tolist() == pytest.approx([kg for _t, kg in truth.body_mass_kg],
                                                   abs=0.01)
    nights = repo.sleep_nights(SYSTEM, patient, None, None)
    asleep = {datetime.fromtimestamp(int(n), UTC).date().isoformat():
              sum(nights.minutes[k][i] for k in (1, 3, 4, 5) if k in nights.minutes)
              for i, n in enumerate(nights.nights)}
    for night, minutes in truth.sleep_asleep_minutes.items():
        assert asleep[night] == pytest.approx(minutes, abs=1), night
    rows = stored(repo)
    again = run_import(repo, new_job(repo, patient, path).id)
    assert (again.state, again.rows_inserted, stored(repo)) == ("done", 0, rows)
    assert again.rows_duplicate == job.rows_inserted + job.rows_duplicate


def test_a_truncated_export_keeps_what_came_before_and_says_where(repo, export, tmp_path):
    path, truth = export
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("apple_health_export/export.xml")
    cut = tmp_path / "export.xml"
    cut.write_bytes(xml[: len(xml) // 2])
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    job = run_import(repo, new_job(repo, patient, cut).id)
    assert job.state == "partial"
    assert "ends early at line" in job.message
    assert 0 < job.rows_inserted < truth.total_records
    assert stored(repo) == job.rows_inserted
    full = run_import(repo, new_job(repo, patient, path).id)
    assert full.state == "done" and full.rows_duplicate >= job.rows_inserted


def test_not_an_export_stores_nothing(repo, tmp_path):
    junk = tmp_path / "export.zip"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    patient = repo.create_patient("Anna Example", "UTC")
    job = run_import(repo, new_job(repo, patient, junk).id)
    assert job.state == "failed" and "not an Apple Health export" in job.message
    assert stored(repo) == 0


def test_a_killed_import_finishes_on_rerun_with_nothing_lost_or_doubled(engine, export):
    from data.repository import Repository

    repo = Repository(engine)
    path, _truth = export
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    job = new_job(repo, patient, path)
    url = engine.url.render_as_string(hide_password=False)
    worker = multiprocessing.get_context("spawn").Process(target=run_in_process,
                                                          args=(url, job.id))
    worker.start()
    deadline = time.monotonic() + 120
    while repo._job(job.id).rows_inserted == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.kill()
    worker.join()
    killed = repo._job(job.id)
    assert killed.state == "running" and killed.rows_inserted > 0
    finished = run_import(repo, job.id)
    assert finished.state == "done"
    reference = Repository(engine)
    other = reference.create_patient("Control", "Europe/Paris")
    clean = run_import(reference, new_job(reference, other, path).id)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(observations).where(
            observations.c.patient_id == patient)).scalar_one()
    assert count == clean.rows_inserted
    steps = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    control = repo.series(SYSTEM, SeriesQuery(other, "steps", resolution="day"))
    assert steps.value.tolist() == pytest.approx(control.value.tolist())


def test_cancel_stops_after_the_current_batch_and_keeps_what_was_stored(repo, export):
    path, truth = export
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    job = new_job(repo, patient, path)
    cancelled = run_import(repo, job.id, batch_size=5000,
                           on_batch=lambda j: repo.request_cancel(SYSTEM, j.id))
    assert cancelled.state == "cancelled" and "run the import again" in cancelled.message
    assert 0 < cancelled.rows_inserted < truth.total_records
    assert stored(repo) == cancelled.rows_inserted
    resumed = run_import(repo, job.id)
    assert resumed.state == "done" and stored(repo) > cancelled.rows_inserted


# --- the bulk writer's paths (rows as columns, direct COPY and its fallbacks) --------------

KINDS = {"Anna’s Apple Watch": "watch", "Anna’s iPhone": "phone"}
T0 = int(datetime(2025, 3, 1, 7, tzinfo=UTC).timestamp())


def heart_rows(n: int) -> list[tuple]:
    return [("heart_rate", T0 + 60 * i, T0 + 60 * i, 60, 60.0 + i % 7, "Anna’s Apple Watch")
            for i in range(n)]


def test_rows_as_columns_store_like_tuples_and_a_repeated_row_counts_once(repo):
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    rows = [*heart_rows(40), *heart_rows(10),
            ("steps", T0, T0 + 600, 60, 100.0, "Anna’s iPhone")]
    first = repo.upsert_observations(ObservationBatch(patient, RowColumns.from_rows(rows), KINDS))
    assert (first.inserted, first.duplicates) == (41, 10)
    again = repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    assert (again.inserted, again.duplicates) == (0, 51)
    assert stored(repo) == 41
    steps = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    assert steps.value.tolist() == [pytest.approx(100.0)]


def test_bad_rows_as_columns_are_refused_by_row(repo):
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    bad = RowColumns.from_rows([*heart_rows(3), ("heart_rate", T0, T0 - 1, 60, 70.0, "x")])
    with pytest.raises(ValueError, match=r"row 3 \(heart_rate\) ends before it starts"):
        repo.upsert_observations(ObservationBatch(patient, bad, KINDS))
    assert stored(repo) == 0


@pytest.fixture
def pg_repo(pg_engine):
    """A repository on the real PostgreSQL only (these paths do not exist on SQLite)."""
    _truncate(pg_engine)
    yield Repository(pg_engine)
    _truncate(pg_engine)


def test_postgresql_direct_copy_falls_back_when_a_stored_row_was_not_seen(pg_repo, monkeypatch):
    """A writer that slipped a row in after the overlap check: the direct COPY fails on the
    key, is rolled back to its savepoint, and the careful path stores the rest once."""
    repo = pg_repo
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    rows = heart_rows(30)
    repo.upsert_observations(ObservationBatch(patient, rows[10:20], KINDS))
    monkeypatch.setattr(type(repo), "_pg_overlapping", lambda *_args: set())
    result = repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    assert (result.inserted, result.duplicates) == (20, 10)
    assert stored(repo) == 30


def test_postgresql_text_copy_when_a_table_is_not_laid_out_as_expected(pg_repo, monkeypatch):
    repo = pg_repo
    monkeypatch.setattr(type(repo), "_pg_binary_ok", lambda *_args: False)
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    rows = [*heart_rows(30), ("steps", T0, T0 + 600, 60, 100.0, "Anna’s iPhone")]
    assert repo.upsert_observations(ObservationBatch(patient, rows, KINDS)).inserted == 31
    assert repo.upsert_observations(ObservationBatch(patient, rows, KINDS)).inserted == 0
    steps = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    assert steps.value.tolist() == [pytest.approx(100.0)]


def test_subtract_windows():
    day = 86_400
    windows = {"steps": [(0, 10 * day), (20 * day, 30 * day)], "heart_rate": [(0, day)]}
    minus = {"steps": [(2 * day, 4 * day), (8 * day, 22 * day)]}
    assert subtract_windows(windows, minus) == {
        "steps": [(0, 2 * day), (4 * day, 8 * day), (22 * day, 30 * day)],
        "heart_rate": [(0, day)],
    }
    assert subtract_windows({"steps": [(0, day)]}, {"steps": [(0, 2 * day)]}) == {}


@pytest.mark.parametrize("kind", ["instant", "cumulative", "interval", "category"])
def test_hour_and_day_rollups_in_one_pass_equal_two_computes(kind):
    rng = np.random.default_rng(3)
    n = 2_000
    start = np.sort(rng.integers(T0, T0 + 20 * 86_400, n))
    length = rng.integers(0, 4 * 3600 if kind == "category" else 900, n)
    value = (rng.integers(0, 6, n) if kind == "category" else rng.random(n) * 100).astype(float)
    rows = RawRows(start, start + length, rng.choice([60, 120, -300], n), value,
                   rng.integers(1, 4, n))
    priority = {1: 10, 2: 20}
    pair = compute_hour_and_day(rows, kind, priority)
    for got, resolution in zip(pair, ("hour", "day"), strict=True):
        want = compute(rows, kind, priority, resolution)
        for name in ("category", "bucket", "utc_start", "utc_offset_min", "n", "sum", "min",
                     "max", "mean", "source_id"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), (resolution, name)
