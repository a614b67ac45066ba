"""Run an import job: parse the file in batches, store each batch, record progress.

Every step is idempotent (natural keys), so a job that was killed is finished by running it
again: what was stored is skipped as duplicates and nothing is doubled.

Rollups follow one batch behind: after a batch is stored, the days the previous batches
touched and this one does not are recomputed, while the parser process reads on; only the
last batch's days are left for the end. A day touched again later is simply recomputed
again, so the order of the file only decides how much work waits for the end (an export
is in time order per type, so very little does).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable

from data import catalog
from data.collectors.apple_health import Batch, ExportError, Report
from data.import_pipeline import batches
from data.repository import Job, ObservationBatch, Repository
from data.repository.base import now_ts
from data.repository.observations import Windows, merge_windows, subtract_windows

log = logging.getLogger(__name__)
RESTARTABLE = ("queued", "running", "failed", "cancelled", "partial")


def run_import(repo: Repository, job_id: str, on_batch: Callable[[Job], None] | None = None,
               batch_size: int = 50_000) -> Job:
    """Import the job's file for its patient; returns the finished job."""
    job = repo._job(job_id)
    if job is None:
        raise KeyError(f"no import job {job_id}")
    if job.state not in RESTARTABLE:
        return job
    repo.update_job(job_id, state="running", started_ts=now_ts(), finished_ts=None,
                    message=None, cancel_requested=False)
    report = Report()
    inserted: dict[str, int] = {}
    pending: Windows = {}  # days whose rollups are not recomputed yet
    ready: Windows = {}  # days being recomputed now (left to the end if that fails)
    priorities: dict[str, dict[int, int]] = {}  # per metric, asked once per import
    duplicates = 0
    try:
        for batch in batches(job.path, report, batch_size):
            touched: Windows = {}
            duplicates += _store(repo, job.patient_id, batch, inserted, touched)
            repo.update_job(job_id, bytes_done=batch.bytes_done, records_done=batch.records_done,
                            rows_inserted=sum(inserted.values()), rows_duplicate=duplicates)
            ready, pending = subtract_windows(pending, touched), touched
            if ready:
                repo.refresh_rollups(job.patient_id, ready, priorities=priorities)
                ready = {}
            if on_batch is not None:
                on_batch(repo._job(job_id))
            if repo.cancel_requested(job_id):
                return _finish(repo, job_id, "cancelled", "Cancelled: the batches imported "
                               "before stay; run the import again to finish it.", report, inserted)
    except ExportError as exc:
        return _finish(repo, job_id, "failed", str(exc), report, inserted)
    except Exception as exc:
        log.exception("import %s failed", job_id)
        _finish(repo, job_id, "failed", f"Import failed: {exc}", report, inserted)
        raise
    finally:
        # rollups of every day the file touched, also when a re-run inserted nothing new
        merge_windows(pending, ready)
        repo.refresh_rollups(job.patient_id, pending, priorities=priorities)
    if report.damage is not None:
        return _finish(repo, job_id, "partial", report.damage.message, report, inserted)
    repo.update_job(job_id, bytes_done=job.bytes_total)
    return _finish(repo, job_id, "done", None, report, inserted)


def _store(repo: Repository, patient_id: int, batch: Batch, inserted: dict[str, int],
           windows: Windows) -> int:
    result = repo.upsert_observations(
        ObservationBatch(patient_id, batch.rows, batch.source_kinds), deferred=windows)
    for metric, count in result.inserted_by_metric.items():
        inserted[metric] = inserted.get(metric, 0) + count
    workouts = [{
        "start_ts": w.start_ts, "end_ts": w.end_ts, "utc_offset_min": w.utc_offset_min,
        "activity": w.activity, "source": w.source, "duration_s": w.duration_s,
        "distance_km": w.distance_km, "energy_kcal": w.energy_kcal,
        "details": json.dumps({"stats": w.stats, "events": w.events, "route": w.route}),
    } for w in batch.workouts]
    kinds = {w.source: batch.source_kinds.get(w.source, "other") for w in batch.workouts}
    repo.upsert_workouts(patient_id, workouts, kinds)
    repo.upsert_activity_summaries(patient_id, {s.day: s.values for s in batch.summaries})
    return result.duplicates


def report_dict(report: Report, inserted: dict[str, int]) -> dict:
    """The import report: per HealthKit type imported / duplicates / not understood."""
    remaining = dict(inserted)
    types = {}
    for hk_type, count in sorted(report.types.items()):
        metric = catalog.for_healthkit(hk_type)
        new = min(count.parsed, remaining.get(metric.code, 0)) if metric else 0
        if metric:
            remaining[metric.code] = remaining.get(metric.code, 0) - new
        types[hk_type] = {"imported": new, "duplicates": count.parsed - new,
                          "not_understood": count.not_understood,
                          "metric": metric.code if metric else None}
    data = dataclasses.asdict(report)
    data["types"] = types
    return data


def _finish(repo: Repository, job_id: str, state: str, message: str | None, report: Report,
            inserted: dict[str, int]) -> Job:
    repo.update_job(job_id, state=state, message=message, finished_ts=now_ts(),
                    report=report_dict(report, inserted))
    return repo._job(job_id)
