"""The import job against the generator's ground truth, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import time
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bench.applehealth_gen import generate_export
from data.access import Principal
from data.dispatch import run_in_process
from data.importer import run_import
from data.queries import SeriesQuery
from data.schema import observations

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
