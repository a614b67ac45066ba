"""The audit log: append-only, hash-chained events; search for admins; verification.

Each event's hash is SHA-256 over the previous event's hash and the event's own fields
(its id included), so changing a stored event, deleting one from the middle, or reordering
them breaks the chain at that point. Appends are serialised (a PostgreSQL advisory lock,
SQLite's write lock) so two processes never chain onto the same predecessor. The database
refuses UPDATE and DELETE on the table (triggers, migration 0005). Deleting the newest
events cannot be seen from the chain alone: `verify` prints the head hash, which an
operator can record elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from data import schema as s
from data.access import AccessDenied, Principal
from data.repository.base import RepositoryBase, now_ts

GENESIS = "0" * 64
_LOCK_KEY = 0x4844_4155  # "HDAU": the advisory lock serialising appends on PostgreSQL


@dataclass(frozen=True)
class AuditEvent:
    """One stored event."""

    id: int
    ts: int
    actor_id: int | None
    actor: str
    actor_role: str
    action: str
    patient_id: int | None
    target: str
    detail: dict
    ip: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditCheck:
    """The result of walking the chain."""

    ok: bool
    events: int
    head: str
    first_bad_id: int | None = None
    problem: str = ""


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and a canonical JSON of the event's fields."""
    body = json.dumps([
        fields["id"], fields["ts"], fields["actor_id"], fields["actor"], fields["actor_role"],
        fields["action"], fields["patient_id"], fields["target"], fields["detail"], fields["ip"],
    ], separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


class AuditMixin(RepositoryBase):
    """Append and read the audit log."""

    def record(self, action: str, *, actor: Principal | None = None, actor_label: str = "",
               patient_id: int | None = None, target: str = "", detail: dict | None = None,
               ip: str | None = None, conn: Connection | None = None) -> int:
        """Append one event; returns its id. `actor` None means anonymous (e.g. failed sign-in).

        Pass `conn` to write the event in the caller's transaction (a change and its audit
        event commit or roll back together).
        """
        role = actor.role if actor is not None else "anonymous"
        label = actor_label or (str(actor) if actor is not None else "anonymous")
        row = {
            "ts": now_ts(), "actor_id": actor.user_id if actor is not None else None,
            "actor": label[:254], "actor_role": role, "action": action[:40],
            "patient_id": patient_id, "target": target[:300],
            "detail": json.dumps(detail or {}, sort_keys=True, separators=(",", ":"),
                                 default=str),
            "ip": (ip or None) and ip[:64],
        }
        if conn is not None:
            return self._append(conn, row)
        with self.engine.begin() as own:
            return self._append(own, row)

    def _append(self, conn: Connection, row: dict) -> int:
        t = s.audit_events
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        else:
            # take SQLite's write lock before reading the head (a no-op write; no row matches)
            conn.exec_driver_sql("DELETE FROM audit_events WHERE 0")
        last = conn.execute(select(t.c.id, t.c.hash).order_by(t.c.id.desc()).limit(1)).first()
        prev = last[1] if last else GENESIS
        row_id = (last[0] if last else 0) + 1
        digest = event_hash(prev, {"id": row_id, **row})
        conn.execute(insert(t).values(id=row_id, prev_hash=prev, hash=digest, **row))
        return row_id

    def audit_events(self, principal: Principal, *, patient_id: int | None = None,
                     actor_id: int | None = None, action: str | None = None,
                     start_ts: int | None = None, end_ts: int | None = None,
                     limit: int = 200, offset: int = 0) -> list[AuditEvent]:
        """Newest first; admins (and the system) only."""
        if principal.role not in ("admin", "system"):
            raise AccessDenied("only admins read the audit log")
        t = s.audit_events
        where = []
        if patient_id is not None:
            where.append(t.c.patient_id == patient_id)
        if actor_id is not None:
            where.append(t.c.actor_id == actor_id)
        if action:
            where.append(t.c.action == action)
        if start_ts is not None:
            where.append(t.c.ts >= start_ts)
        if end_ts is not None:
            where.append(t.c.ts < end_ts)
        query = select(t).order_by(t.c.id.desc()).limit(min(max(limit, 1), 1000)).offset(
            max(offset, 0))
        if where:
            query = query.where(and_(*where))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]

    def verify_audit(self, batch: int = 5000) -> AuditCheck:
        """Walk the whole chain in id order; the first event that does not fit is reported."""
        t = s.audit_events
        prev, count, last_id = GENESIS, 0, 0
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(select(t).where(t.c.id > last_id).order_by(t.c.id)
                                    .limit(batch)).mappings().all()
                if not rows:
                    return AuditCheck(True, count, prev)
                for r in rows:
                    if r["id"] != last_id + 1:
                        return AuditCheck(False, count, prev, r["id"],
                                          f"events {last_id + 1}–{r['id'] - 1} are missing")
                    if r["prev_hash"] != prev:
                        return AuditCheck(False, count, prev, r["id"],
                                          f"event {r['id']} does not follow event {last_id}")
                    if event_hash(prev, dict(r)) != r["hash"]:
                        return AuditCheck(False, count, prev, r["id"],
                                          f"event {r['id']} was changed after it was written")
                    prev, last_id, count = r["hash"], r["id"], count + 1


def _event(r) -> AuditEvent:
    return AuditEvent(r["id"], r["ts"], r["actor_id"], r["actor"], r["actor_role"],
                      r["action"], r["patient_id"], r["target"], json.loads(r["detail"]),
                      r["ip"], r["prev_hash"], r["hash"])
