"""Import jobs, chunked uploads, workouts and activity rings."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from data import schema as s
from data.access import Principal
from data.repository.base import RepositoryBase, now_ts

JOB_STATES = ("queued", "running", "done", "partial", "failed", "cancelled")
FINISHED = ("done", "partial", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """An import's state, as the progress page and the API show it."""

    id: str
    patient_id: int
    created_by: int | None
    kind: str
    filename: str
    path: str
    state: str
    bytes_total: int
    bytes_done: int
    records_done: int
    rows_inserted: int
    rows_duplicate: int
    cancel_requested: bool
    created_ts: int
    started_ts: int | None
    updated_ts: int | None
    finished_ts: int | None
    message: str | None
    report: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        """No more progress will come."""
        return self.state in FINISHED

    def public(self) -> dict[str, Any]:
        """The job as the API returns it (no server paths)."""
        fields = {k: v for k, v in self.__dict__.items() if k not in ("path",)}
        fields["percent"] = round(100 * self.bytes_done / self.bytes_total, 1) if (
            self.bytes_total) else None
        return fields


@dataclass(frozen=True)
class Upload:
    """A file arriving in chunks from the browser."""

    id: str
    user_id: int
    patient_id: int
    filename: str
    size: int
    received: int
    path: str


class ImportsMixin(RepositoryBase):
    """Persistence of imports; the parsing lives in data/collectors."""

    def create_job(self, principal: Principal, patient_id: int, kind: str, filename: str,
                   path: str, bytes_total: int) -> Job:
        """Queue an import of a file already on the server's disk."""
        self.authorize_change(principal, patient_id)  # type: ignore[attr-defined]
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(insert(s.import_jobs).values(
                id=job_id, patient_id=patient_id, created_by=principal.user_id, kind=kind,
                filename=filename[:255], path=path, state="queued", bytes_total=bytes_total,
                bytes_done=0, records_done=0, rows_inserted=0, rows_duplicate=0,
                cancel_requested=False, created_ts=now_ts(),
            ))
        return self._job(job_id)

    def job(self, principal: Principal, job_id: str) -> Job:
        """A job the principal may see; KeyError when there is none (or it is not theirs)."""
        job = self._job(job_id)
        if job is None or not self.can_see(principal, job.patient_id):  # type: ignore[attr-defined]
            raise KeyError(f"no import job {job_id}")
        return job

    def jobs_for_patient(self, principal: Principal, patient_id: int, limit: int = 10) -> list[Job]:
        """The patient's latest imports, newest first."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            ids = conn.execute(select(s.import_jobs.c.id).where(
                s.import_jobs.c.patient_id == patient_id
            ).order_by(s.import_jobs.c.created_ts.desc()).limit(limit)).scalars().all()
        return [self._job(i) for i in ids]

    def _job(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.import_jobs).where(
                s.import_jobs.c.id == job_id)).mappings().first()
        if row is None:
            return None
        data = dict(row)
        data["report"] = json.loads(data["report"]) if data["report"] else None
        data["cancel_requested"] = bool(data["cancel_requested"])
        return Job(**data)

    def update_job(self, job_id: str, **fields: Any) -> None:
        """Record progress or an outcome (system use: the job runner)."""
        if "report" in fields and fields["report"] is not None:
            fields["report"] = json.dumps(fields["report"])
        fields["updated_ts"] = now_ts()
        with self.engine.begin() as conn:
            conn.execute(update(s.import_jobs).where(s.import_jobs.c.id == job_id)
                         .values(**fields))

    def request_cancel(self, principal: Principal, job_id: str) -> None:
        """Ask a running import to stop after its current batch (those who may change)."""
        job = self.job(principal, job_id)
        self.authorize_change(principal, job.patient_id)  # type: ignore[attr-defined]
        self.update_job(job_id, cancel_requested=True)

    def cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked the job to stop."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(s.import_jobs.c.cancel_requested).where(
                s.import_jobs.c.id == job_id)).scalar())

    def create_upload(self, principal: Principal, patient_id: int, filename: str, size: int,
                      path: str) -> Upload:
        """Start receiving a file for a patient."""
        self.authorize_change(principal, patient_id)  # type: ignore[attr-defined]
        upload_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(insert(s.uploads).values(
                id=upload_id, user_id=principal.user_id, patient_id=patient_id,
                filename=filename[:255], size=size, received=0, path=path,
                created_ts=now_ts(),
            ))
        return self.upload(principal, upload_id)

    def upload(self, principal: Principal, upload_id: str) -> Upload:
        """An upload of this user; KeyError otherwise."""
        with self.engine.connect() as conn:
            row = conn.execute(select(s.uploads).where(s.uploads.c.id == upload_id)
                               ).mappings().first()
        if row is None or row["user_id"] != principal.user_id:
            raise KeyError(f"no upload {upload_id}")
        return Upload(row["id"], row["user_id"], row["patient_id"], row["filename"],
                      row["size"], row["received"], row["path"])

    def set_upload_received(self, upload_id: str, received: int) -> None:
        """Bytes stored so far."""
        with self.engine.begin() as conn:
            conn.execute(update(s.uploads).where(s.uploads.c.id == upload_id)
                         .values(received=received))


class ActivityMixin(RepositoryBase):
    """Workouts and daily activity rings, stored once however often imported."""

    def upsert_workouts(self, patient_id: int, workouts: list[dict[str, Any]],
                        source_kinds: dict[str, str]) -> int:
        """Store workouts (dicts with the `workouts` columns, `source` by name); returns new."""
        if not workouts:
            return 0
        ids = self.source_ids(patient_id, source_kinds)  # type: ignore[attr-defined]
        rows = [{**{k: v for k, v in w.items() if k != "source"},
                 "patient_id": patient_id, "source_id": ids[w["source"]]} for w in workouts]
        with self.engine.begin() as conn:
            return insert_ignoring_duplicates(conn, s.workouts, rows)

    def upsert_activity_summaries(self, patient_id: int, days: dict[str, dict[str, float]]) -> int:
        """Store the rings of each local day (a later export's values win)."""
        if not days:
            return 0
        with self.engine.begin() as conn:
            table = s.activity_summaries
            existing = set(conn.execute(select(table.c.day).where(
                table.c.patient_id == patient_id, table.c.day.in_(list(days)))).scalars())
            for day in existing:
                conn.execute(update(table).where(
                    table.c.patient_id == patient_id, table.c.day == day
                ).values(values=json.dumps(days[day])))
            new = [{"patient_id": patient_id, "day": d, "values": json.dumps(v)}
                   for d, v in days.items() if d not in existing]
            if new:
                conn.execute(insert(table), new)
        return len(new)

    def workouts(self, principal: Principal, patient_id: int) -> list[dict[str, Any]]:
        """A patient's workouts, newest first, details decoded."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.workouts).where(s.workouts.c.patient_id == patient_id)
                                .order_by(s.workouts.c.start_ts.desc())).mappings().all()
        return [{**r, "details": json.loads(r["details"])} for r in rows]

    def activity_summaries(self, principal: Principal, patient_id: int) -> dict[str, dict]:
        """Rings by local day."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        table = s.activity_summaries
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.day, table.c["values"]).where(
                table.c.patient_id == patient_id)).all()
        return {day: json.loads(values) for day, values in rows}


def insert_ignoring_duplicates(conn, table, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on either dialect; returns rows inserted."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    result = conn.execute(dialect_insert(table).on_conflict_do_nothing(), rows)
    return max(result.rowcount, 0)
