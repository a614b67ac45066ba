"""Clinical review: notes, reviews, raw readings and rollups for the clinical panels, reports.

Every read takes a `Principal` and goes through `authorize`; every write through
`authorize_change` (caregivers and break-glass admins read only). Notes are part of a patient's
data: adding one bumps the data version, so every cached chart of that patient is rebuilt
with its marker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import desc, func, insert, select

from data import catalog
from data import schema as s
from data.access import AccessDenied, Principal
from data.repository.base import RepositoryBase, columns, fetch_driver_rows, now_ts
from data.rollups import NUMERIC

T = TypeVar("T")
NOTE_MAX_CHARS = 500
_FAR = 2**62


@dataclass(frozen=True)
class Note:
    """A dated remark on a patient's timeline."""

    id: int
    at_ts: int
    t_local: int
    author: str
    text: str


@dataclass(frozen=True)
class Review:
    """Who last reviewed a patient, and when (UTC seconds)."""

    reviewer: str
    reviewed_ts: int


@dataclass(frozen=True)
class Readings:
    """Raw readings of one metric, oldest first."""

    t_utc: np.ndarray
    t_local: np.ndarray
    end_local: np.ndarray
    value: np.ndarray
    source_id: np.ndarray

    def __len__(self) -> int:
        return len(self.t_utc)


@dataclass(frozen=True)
class Buckets:
    """Rollup rows of one metric: local bucket start (wall clock), n, sum, min, max, mean."""

    bucket: np.ndarray
    n: np.ndarray
    sum: np.ndarray
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray
    source: list[str]

    def __len__(self) -> int:
        return len(self.bucket)


@dataclass(frozen=True)
class StoredReport:
    """A generated PDF."""

    id: str
    patient_id: int
    created_ts: int
    pages: int
    pdf: bytes


class ClinicalMixin(RepositoryBase):
    """Notes, reviews, and the reads behind the clinical panels."""

    # --- notes ---------------------------------------------------------------------------

    def add_note(self, principal: Principal, patient_id: int, at_ts: int, text: str) -> int:
        """Add a note at a moment; the patient and their clinicians may write notes."""
        self.authorize_change(principal, patient_id)  # type: ignore[attr-defined]
        text = " ".join((text or "").split())
        if not text:
            raise ValueError("a note needs some text")
        if len(text) > NOTE_MAX_CHARS:
            raise ValueError(f"a note holds at most {NOTE_MAX_CHARS} characters, "
                             f"this one has {len(text)}")
        zone = ZoneInfo(self.patient(principal, patient_id).timezone)  # type: ignore[attr-defined]
        offset = datetime.fromtimestamp(at_ts, zone).utcoffset()
        with self.engine.begin() as conn:
            note_id = conn.execute(insert(s.notes).values(
                patient_id=patient_id, author_id=principal.user_id, at_ts=int(at_ts),
                utc_offset_min=int(offset.total_seconds() // 60) if offset else 0,
                text=text, created_ts=now_ts(),
            ).returning(s.notes.c.id)).scalar_one()
            self._bump_version(conn, patient_id)  # type: ignore[attr-defined]
        return note_id

    def notes(self, principal: Principal, patient_id: int, start_ts: int | None = None,
              end_ts: int | None = None) -> list[Note]:
        """The patient's notes in [start, end), oldest first."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        n, u = s.notes, s.users
        query = (
            select(n.c.id, n.c.at_ts, n.c.utc_offset_min, u.c.display_name, n.c.text)
            .select_from(n.outerjoin(u, u.c.id == n.c.author_id))
            .where(n.c.patient_id == patient_id,
                   n.c.at_ts >= (start_ts if start_ts is not None else -_FAR),
                   n.c.at_ts < (end_ts if end_ts is not None else _FAR))
            .order_by(n.c.at_ts, n.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Note(r[0], r[1], r[1] + r[2] * 60, r[3] or "former user", r[4]) for r in rows]

    # --- reviews -------------------------------------------------------------------------

    def mark_reviewed(self, principal: Principal, patient_id: int, at_ts: int | None = None
                      ) -> Review:
        """Record that a clinician reviewed the patient now."""
        if principal.role != "clinician":
            raise AccessDenied("only clinicians mark patients reviewed")
        self.authorize_change(principal, patient_id)  # type: ignore[attr-defined]
        when = at_ts if at_ts is not None else now_ts()
        with self.engine.begin() as conn:
            conn.execute(insert(s.reviews).values(
                patient_id=patient_id, reviewer_id=principal.user_id, reviewed_ts=when))
        return self.last_reviews([patient_id])[patient_id]

    def last_review(self, principal: Principal, patient_id: int) -> Review | None:
        """The newest review of a patient the principal may see."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        return self.last_reviews([patient_id]).get(patient_id)

    def last_reviews(self, patient_ids: list[int]) -> dict[int, Review]:
        """Newest review per patient (internal: callers have authorized the ids)."""
        r, u = s.reviews, s.users
        newest = (
            select(r.c.patient_id, func.max(r.c.id).label("id"))
            .where(r.c.patient_id.in_(patient_ids)).group_by(r.c.patient_id).subquery()
        )
        query = (
            select(r.c.patient_id, u.c.display_name, r.c.reviewed_ts)
            .select_from(r.join(newest, newest.c.id == r.c.id)
                         .outerjoin(u, u.c.id == r.c.reviewer_id))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {pid: Review(name or "former user", ts) for pid, name, ts in rows}

    # --- reads for the panels -------------------------------------------------------------

    def memo(self, principal: Principal, patient_id: int, key: str, compute: Callable[[], T]
             ) -> T:
        """`compute()` cached under `key` and the patient's data version (after authorize)."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        if self.cache is None:
            return compute()
        version = self.data_version(patient_id)  # type: ignore[attr-defined]
        full_key = f"memo:{patient_id}:v{version}:{key}"
        hit = self.cache.get(full_key)
        if hit is not None:
            return hit
        result = compute()
        self.cache.set(full_key, result)
        return result

    def readings(self, principal: Principal, patient_id: int, metric: str,
                 start_ts: int | None, end_ts: int | None) -> Readings:
        """Raw readings of one metric in [start, end) by start time, every source."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        catalog.get(metric)
        with self.engine.connect() as conn:
            # the writer's bulk column read (one server-built bytea on PostgreSQL)
            raw = self._read_raw(  # type: ignore[attr-defined]
                conn, patient_id, metric, start_ts if start_ts is not None else -_FAR,
                end_ts if end_ts is not None else _FAR)
        off = raw.offset_min * 60
        return Readings(raw.start, raw.start + off, raw.end + off, raw.value, raw.source_id)

    def buckets(self, principal: Principal, patient_id: int, metric: str,
                start_ts: int | None, end_ts: int | None, *, hourly: bool = False,
                category: int = NUMERIC) -> Buckets:
        """Daily (or hourly) rollups whose UTC start lies in [start, end), oldest first."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        catalog.get(metric)
        table = "rollup_hourly" if hourly else "rollup_daily"
        lo = start_ts if start_ts is not None else -_FAR
        hi = end_ts if end_ts is not None else _FAR
        with self.engine.connect() as conn:
            rows = fetch_driver_rows(conn, (
                f"SELECT bucket, n, sum, min, max, mean, source_id FROM {table} "
                "WHERE patient_id = %s AND metric = %s AND category = %s "
                "AND bucket >= %s AND bucket < %s AND utc_start >= %s AND utc_start < %s "
                "ORDER BY bucket"
            ), (patient_id, metric, category, lo - 86400, hi + 86400, lo, hi))
        names = self.source_names(patient_id) if rows else {}  # type: ignore[attr-defined]
        bucket, n, total, low, high, mean = columns([r[:6] for r in rows], 6)
        return Buckets(bucket.astype(np.int64), n, total, low, high, mean,
                       [names.get(r[6], "") if r[6] is not None else "" for r in rows])

    def metrics_present(self, principal: Principal, patient_id: int) -> set[str]:
        """Metric codes with at least one daily rollup."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            found = set()
            for metric in catalog.all_metrics():
                hit = conn.execute(
                    select(s.rollup_daily.c.bucket).where(
                        s.rollup_daily.c.patient_id == patient_id,
                        s.rollup_daily.c.metric == metric.code,
                    ).limit(1)
                ).first()
                if hit is not None:
                    found.add(metric.code)
        return found

    # --- reports -------------------------------------------------------------------------

    def save_report(self, principal: Principal, patient_id: int, start_ts: int, end_ts: int,
                    pages: int, pdf: bytes) -> str:
        """Store a generated PDF; returns its id."""
        self.authorize_change(principal, patient_id)  # type: ignore[attr-defined]
        report_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(insert(s.reports).values(
                id=report_id, patient_id=patient_id, created_by=principal.user_id,
                created_ts=now_ts(), start_ts=start_ts, end_ts=end_ts, pages=pages, pdf=pdf))
        return report_id

    def report(self, principal: Principal, report_id: str) -> StoredReport:
        """A stored report the principal may see; KeyError when there is none."""
        r = s.reports
        with self.engine.connect() as conn:
            row = conn.execute(
                select(r.c.id, r.c.patient_id, r.c.created_ts, r.c.pages, r.c.pdf)
                .where(r.c.id == report_id)
            ).first()
        if row is None:
            raise KeyError(f"no report {report_id}")
        self.authorize(principal, row[1])  # type: ignore[attr-defined]
        return StoredReport(row[0], row[1], row[2], row[3], bytes(row[4]))

    def latest_report(self, principal: Principal, patient_id: int) -> str | None:
        """Id of the newest report of a patient."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            return conn.execute(
                select(s.reports.c.id).where(s.reports.c.patient_id == patient_id)
                .order_by(desc(s.reports.c.created_ts)).limit(1)
            ).scalar()
