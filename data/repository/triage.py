"""The clinic's triage list: one stored summary row per patient, refreshed when data moves.

A patient's summary carries the data version it was computed from; the list recomputes
(from rollups, a few hundred rows per patient) only the summaries whose version is behind,
so a list of 1,000 patients reads 1,000 small rows, not millions of observations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, delete, insert, select

from data import catalog, triage
from data import schema as s
from data.access import Principal
from data.repository.base import RepositoryBase, columns, fetch_driver_rows, now_ts
from data.repository.clinical import Review
from data.repository.people import PatientRecord
from data.rollups import NUMERIC

DAY = 86400


@dataclass(frozen=True)
class TriageRow:
    """One line of the clinic list."""

    patient: PatientRecord
    last_data_ts: int | None
    last_sync_ts: int | None
    days_without_data: float | None
    stats: dict
    flags: list[dict]
    severity: int
    review: Review | None


class TriageMixin(RepositoryBase):
    """The clinic list and the per-patient summaries behind it."""

    def triage(self, principal: Principal, now: int | None = None) -> list[TriageRow]:
        """A row per patient the principal may see, summaries brought up to date first."""
        return self._rows(self.list_patients(principal), now)  # type: ignore[attr-defined]

    def _rows(self, patients: list[PatientRecord], now: int | None) -> list[TriageRow]:
        if not patients:
            return []
        ids = [p.id for p in patients]
        rows = self._summary_rows(ids)
        stale = [pid for pid in ids if pid not in rows or rows[pid][0] != rows[pid][1]]
        if stale:
            for pid in stale:
                self.refresh_summary(pid)
            rows = self._summary_rows(ids)
        reviews = self.last_reviews(ids)  # type: ignore[attr-defined]
        now = now if now is not None else now_ts()
        result = []
        for patient in patients:
            _, _, last_data, last_sync, stats_json = rows[patient.id]
            stats = json.loads(stats_json)
            days = None if last_data is None else max(0.0, (now - last_data) / DAY)
            flags = stats.pop("flags", [])
            if last_data is None:
                flags.append({"code": "no_data", "severity": 1, "label": "No data",
                              "detail": "No readings have been received yet."})
            else:
                flags += triage.freshness_flags(days)
            flags.sort(key=lambda f: (-f["severity"], f["code"]))
            result.append(TriageRow(
                patient, last_data, last_sync, days, stats, flags,
                max((f["severity"] for f in flags), default=0), reviews.get(patient.id),
            ))
        return result

    def patient_flags(self, principal: Principal, patient_id: int,
                      now: int | None = None) -> list[dict]:
        """The triage flags of one patient, as the list shows them."""
        self.authorize(principal, patient_id)  # type: ignore[attr-defined]
        patient = self.patient(principal, patient_id)  # type: ignore[attr-defined]
        return self._rows([patient], now)[0].flags

    def _summary_rows(self, ids: list[int]) -> dict[int, tuple]:
        """patient -> (data version, summary version, last data, last sync, stats JSON)."""
        v, p = s.data_versions, s.patient_summaries
        query = (
            select(p.c.patient_id, v.c.version, p.c.version, p.c.last_data_ts, v.c.updated_ts,
                   p.c.stats)
            .select_from(p.outerjoin(v, v.c.patient_id == p.c.patient_id))
            .where(p.c.patient_id.in_(ids))
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).all()
        return {r[0]: (r[1] or 0, r[2], r[3], r[4], r[5]) for r in found}

    def refresh_summary(self, patient_id: int) -> dict:
        """Recompute and store one patient's triage figures (internal; no principal)."""
        with self.engine.begin() as conn:
            version = conn.execute(select(s.data_versions.c.version).where(
                s.data_versions.c.patient_id == patient_id)).scalar() or 0
            inputs, last_utc = self._triage_inputs(conn, patient_id)
            stats = triage.compute(inputs)
            severity = max((f["severity"] for f in stats["flags"]), default=0)
            conn.execute(delete(s.patient_summaries).where(
                s.patient_summaries.c.patient_id == patient_id))
            conn.execute(insert(s.patient_summaries).values(
                patient_id=patient_id, version=version, computed_ts=now_ts(),
                last_data_ts=last_utc, severity=severity,
                stats=json.dumps(stats, allow_nan=False)))
        return stats

    def triage_inputs(self, patient_id: int) -> triage.TriageInputs:
        """The inputs of a patient's triage figures, read from the rollups (for tests)."""
        with self.engine.connect() as conn:
            return self._triage_inputs(conn, patient_id)[0]

    def _triage_inputs(self, conn: Connection, patient_id: int
                       ) -> tuple[triage.TriageInputs, int | None]:
        latest = None
        for metric in catalog.all_metrics():
            # one index probe per metric: max() over the primary key's prefix
            row = fetch_driver_rows(conn, (
                "SELECT start_ts, utc_offset_min FROM observations WHERE patient_id = %s "
                "AND metric = %s ORDER BY start_ts DESC LIMIT 1"), (patient_id, metric.code))
            if row and (latest is None or row[0][0] > latest[0]):
                latest = row[0]
        if latest is None:
            return triage.TriageInputs(None), None
        last_local = int(latest[0]) + int(latest[1]) * 60
        day = triage.as_of_day(last_local)
        lo = day - triage.HISTORY_DAYS * DAY
        rows = fetch_driver_rows(conn, (
            "SELECT metric, bucket, mean, min FROM rollup_daily WHERE patient_id = %s "
            "AND metric IN ('resting_heart_rate', 'body_mass', 'spo2') AND category = %s "
            "AND bucket >= %s AND bucket <= %s ORDER BY metric, bucket"
        ), (patient_id, NUMERIC, lo, day))
        daily = {}
        spo2_min = None
        for metric in triage.TRIAGE_METRICS:
            mine = [r for r in rows if r[0] == metric]
            if not mine:
                continue
            bucket, mean, low = columns([r[1:] for r in mine], 3)
            daily[metric] = triage.Daily(bucket.astype(np.int64), mean)
            if metric == "spo2":
                spo2_min = triage.Daily(bucket.astype(np.int64), low)
        bp_t, bp_sys, bp_dia = self._bp_pairs(conn, patient_id, day)
        glucose = fetch_driver_rows(conn, (
            "SELECT value FROM observations WHERE patient_id = %s AND metric = 'blood_glucose' "
            "AND start_ts + utc_offset_min * 60 >= %s AND start_ts >= %s AND start_ts < %s"
        ), (patient_id, day - (triage.GLUCOSE_DAYS - 1) * DAY,
            day - triage.GLUCOSE_DAYS * DAY, day + 2 * DAY))
        return triage.TriageInputs(
            last_local, daily, spo2_min, bp_t, bp_sys, bp_dia,
            np.array([g[0] for g in glucose], dtype=float),
        ), int(latest[0])

    def _bp_pairs(self, conn: Connection, patient_id: int, day: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Readings (local time, systolic, diastolic) of the last BP days plus the latest one."""
        out = {}
        for metric in ("bp_systolic", "bp_diastolic"):
            rows = fetch_driver_rows(conn, (
                "SELECT start_ts, utc_offset_min, source_id, value FROM observations "
                "WHERE patient_id = %s AND metric = %s AND start_ts >= %s "
                "ORDER BY start_ts"), (patient_id, metric, day - (triage.BP_DAYS + 1) * DAY))
            if not rows:
                rows = fetch_driver_rows(conn, (
                    "SELECT start_ts, utc_offset_min, source_id, value FROM observations "
                    "WHERE patient_id = %s AND metric = %s ORDER BY start_ts DESC LIMIT 1"
                ), (patient_id, metric))
            out[metric] = {(r[0], r[2]): (r[0] + r[1] * 60, r[3]) for r in rows}
        keys = sorted(set(out["bp_systolic"]) & set(out["bp_diastolic"]))
        t = np.array([out["bp_systolic"][k][0] for k in keys], dtype=np.int64)
        return (t, np.array([out["bp_systolic"][k][1] for k in keys], dtype=float),
                np.array([out["bp_diastolic"][k][1] for k in keys], dtype=float))

