"""Users, patients, care teams, sources, and the access rule every read goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, insert, select

from data import audit_context
from data import schema as s
from data.access import AccessDenied, Principal
from data.repository.base import RepositoryBase, now_ts

# Lower wins when sources overlap: Watch above iPhone above everything else.
DEFAULT_PRIORITY = {"watch": 10, "phone": 20}
OTHER_PRIORITY = 50


@dataclass(frozen=True)
class UserRecord:
    """A login."""

    id: int
    email: str
    display_name: str
    role: str
    password_hash: str | None
    active: bool


@dataclass(frozen=True)
class PatientRecord:
    """A person whose data we hold."""

    id: int
    name: str
    birth_date: date | None
    sex: str | None
    timezone: str
    user_id: int | None

    def age(self, today: date | None = None) -> int | None:
        """Whole years since birth (None when the birth date is unknown)."""
        if self.birth_date is None:
            return None
        today = today or date.today()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class PeopleMixin(RepositoryBase):
    """Accounts, patients and who may see whom."""

    def create_user(
        self, email: str, display_name: str, role: str, password_hash: str | None
    ) -> int:
        """Add a login; raises ValueError when the e-mail is taken."""
        email = email.strip().lower()
        if self.user_by_email(email) is not None:
            raise ValueError(f"a user with e-mail {email} already exists")
        with self.engine.begin() as conn:
            return conn.execute(
                insert(s.users).values(
                    email=email, display_name=display_name, role=role,
                    password_hash=password_hash, active=True, created_ts=now_ts(),
                ).returning(s.users.c.id)
            ).scalar_one()

    def user_by_email(self, email: str) -> UserRecord | None:
        """The user with this e-mail (case-insensitive), if any."""
        return self._user(s.users.c.email == email.strip().lower())

    def user_by_id(self, user_id: int) -> UserRecord | None:
        """The user with this id, if any."""
        return self._user(s.users.c.id == user_id)

    def _user(self, where) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.users).where(where)).mappings().first()
        if row is None:
            return None
        return UserRecord(
            row["id"], row["email"], row["display_name"], row["role"],
            row["password_hash"], bool(row["active"]),
        )

    def create_patient(
        self, name: str, timezone: str = "UTC", birth_date: date | None = None,
        sex: str | None = None, user_id: int | None = None,
    ) -> int:
        """Add a patient record, optionally linked to the patient's own login."""
        with self.engine.begin() as conn:
            return conn.execute(
                insert(s.patients).values(
                    name=name, timezone=timezone, birth_date=birth_date, sex=sex,
                    user_id=user_id, created_ts=now_ts(),
                ).returning(s.patients.c.id)
            ).scalar_one()

    def add_to_care_team(self, clinician_id: int, patient_id: int,
                         added_by: int | None = None) -> None:
        """Let a clinician see a patient (idempotent; seeding and the CLI, no audit event).

        People grant and assign through `grant_clinician` (consent), which audits.
        """
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(func.count()).select_from(s.care_team).where(
                    s.care_team.c.clinician_id == clinician_id,
                    s.care_team.c.patient_id == patient_id,
                )
            ).scalar_one()
            if not exists:
                conn.execute(insert(s.care_team).values(
                    clinician_id=clinician_id, patient_id=patient_id, added_ts=now_ts(),
                    added_by=added_by,
                ))

    def principal_for(self, user: UserRecord) -> Principal:
        """The principal a signed-in user acts as."""
        patient_id = None
        if user.role == "patient":
            with self.engine.connect() as conn:
                patient_id = conn.execute(
                    select(s.patients.c.id).where(s.patients.c.user_id == user.id)
                ).scalar()
        return Principal(user_id=user.id, role=user.role, patient_id=patient_id)

    # --- the access rules ------------------------------------------------------------------

    def _visible_ids(self, principal: Principal):
        """A SELECT of the patient ids a (non-system) principal may read, or None for none.

        The one place that says who sees whom; `can_see` and `list_patients` both use it.
        """
        uid = principal.user_id
        if principal.role == "patient":
            if principal.patient_id is None:
                return None
            return select(s.patients.c.id).where(s.patients.c.id == principal.patient_id)
        if uid is None:
            return None
        if principal.role == "clinician":
            return select(s.care_team.c.patient_id).where(s.care_team.c.clinician_id == uid)
        if principal.role == "caregiver":
            cg = s.caregivers
            return select(cg.c.patient_id).where(cg.c.caregiver_id == uid,
                                                 cg.c.revoked_ts.is_(None))
        if principal.role == "admin":
            bg = s.break_glass
            return select(bg.c.patient_id).where(bg.c.admin_id == uid, bg.c.ended_ts.is_(None),
                                                 bg.c.expires_ts > now_ts())
        return None

    def can_see(self, principal: Principal, patient_id: int) -> bool:
        """The single access rule for reading patient data.

        Patients see themselves; caregivers the patients whose grant to them is not revoked;
        clinicians the patients on their care team; admins a patient only while their
        break-glass session for that patient is live (not ended, not expired); the system
        everything.
        """
        if principal.role == "system":
            return True
        visible = self._visible_ids(principal)
        if visible is None:
            return False
        try:
            pid = int(patient_id)
        except (TypeError, ValueError):
            return False
        if not 0 < pid < 2**31:
            return False  # no such patient id (and PostgreSQL's int4 would refuse it)
        # One decision per request or job: a patient-page callback authorizes the same
        # patient several times; a new request (or job) decides again, so a revocation
        # takes effect at the next one.
        scope = audit_context.current()
        key = (principal, pid)
        if scope is not None and key in scope.decisions:
            return scope.decisions[key]
        with self.engine.connect() as conn:
            found = conn.execute(
                visible.where(visible.selected_columns[0] == pid).limit(1)).first()
        if scope is not None:
            scope.decisions[key] = found is not None
        return found is not None

    def authorize(self, principal: Principal, patient_id: int) -> None:
        """Raise AccessDenied unless the principal may see the patient."""
        allowed = self.can_see(principal, patient_id)
        # --- audit (data/audit_context.py): one read/read_denied event per request and patient
        from data.audit_context import note_access

        note_access(self, principal, patient_id, allowed)
        # --- end audit
        if not allowed:
            raise AccessDenied(f"{principal} may not see patient {patient_id}")

    def can_change(self, principal: Principal, patient_id: int) -> bool:
        """The rule for every write of patient data: narrower than `can_see`.

        The patient themselves, a clinician on the care team, and the system may change a
        patient's data (notes, source priorities, imports, reports); caregivers and admins
        in break-glass read only.
        """
        if principal.role not in ("patient", "clinician", "system"):
            return False
        return self.can_see(principal, patient_id)

    def authorize_change(self, principal: Principal, patient_id: int) -> None:
        """Raise AccessDenied unless the principal may change the patient's data."""
        if not self.can_change(principal, patient_id):
            raise AccessDenied(f"{principal} may not change patient {patient_id}'s data")

    def patient(self, principal: Principal, patient_id: int) -> PatientRecord:
        """One patient, if the principal may see them; KeyError if there is none."""
        self.authorize(principal, patient_id)
        rows = self._patients(s.patients.c.id == patient_id)
        if not rows:
            raise KeyError(f"no patient with id {patient_id}")
        return rows[0]

    def list_patients(self, principal: Principal) -> list[PatientRecord]:
        """The patients a principal may see, by name (the same rule as `can_see`)."""
        if principal.role == "system":
            return self._patients(None)
        visible = self._visible_ids(principal)
        if visible is None:
            return []
        return self._patients(s.patients.c.id.in_(visible))

    def _patients(self, where) -> list[PatientRecord]:
        query = select(s.patients).order_by(s.patients.c.name, s.patients.c.id)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            PatientRecord(r["id"], r["name"], r["birth_date"], r["sex"], r["timezone"],
                          r["user_id"])
            for r in rows
        ]

    def source_ids(self, patient_id: int, kinds: dict[str, str]) -> dict[str, int]:
        """Ids of the named sources of a patient, creating the missing ones.

        `kinds` maps source name to its kind (watch, phone, scale...), which sets the
        default de-duplication priority of a new source.
        """
        with self.engine.begin() as conn:
            found = dict(conn.execute(
                select(s.sources.c.name, s.sources.c.id).where(
                    s.sources.c.patient_id == patient_id, s.sources.c.name.in_(list(kinds))
                )
            ).all())
            for name, kind in kinds.items():
                if name not in found:
                    found[name] = conn.execute(insert(s.sources).values(
                        patient_id=patient_id, name=name, kind=kind,
                        priority=DEFAULT_PRIORITY.get(kind, OTHER_PRIORITY),
                    ).returning(s.sources.c.id)).scalar_one()
        return found

    def source_priorities(self, patient_id: int, metric: str | None = None) -> dict[int, int]:
        """Source id -> priority (lower wins) for a patient, with the metric's overrides."""
        with self.engine.connect() as conn:
            found = dict(conn.execute(
                select(s.sources.c.id, s.sources.c.priority).where(
                    s.sources.c.patient_id == patient_id
                )
            ).all())
            if metric is not None:
                found.update(conn.execute(
                    select(s.source_priorities.c.source_id, s.source_priorities.c.priority)
                    .where(s.source_priorities.c.patient_id == patient_id,
                           s.source_priorities.c.metric == metric)
                ).all())
        return found

    def sources(self, principal: Principal, patient_id: int,
                metric: str | None = None) -> list[tuple[int, str, str, int]]:
        """(id, name, kind, priority) of a patient's sources, best first."""
        self.authorize(principal, patient_id)
        priorities = self.source_priorities(patient_id, metric)
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.sources.c.id, s.sources.c.name, s.sources.c.kind)
                                .where(s.sources.c.patient_id == patient_id)).all()
        return sorted(((i, n, k, priorities[i]) for i, n, k in rows), key=lambda r: (r[3], r[0]))

    def set_metric_priority(self, principal: Principal, patient_id: int, metric: str,
                            ordered_source_ids: list[int]) -> None:
        """Rank sources for one metric (first wins); rollups of that metric are rebuilt."""
        self.authorize_change(principal, patient_id)
        known = {i for i, *_ in self.sources(principal, patient_id)}
        if set(ordered_source_ids) - known:
            raise ValueError(f"unknown sources for patient {patient_id}: "
                             f"{sorted(set(ordered_source_ids) - known)}")
        table = s.source_priorities
        with self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.patient_id == patient_id,
                                              table.c.metric == metric))
            if ordered_source_ids:
                conn.execute(insert(table), [
                    {"patient_id": patient_id, "metric": metric, "source_id": sid,
                     "priority": rank}
                    for rank, sid in enumerate(ordered_source_ids, start=1)
                ])
        self.recompute_rollups(patient_id, metrics=[metric])  # type: ignore[attr-defined]

    def source_names(self, patient_id: int) -> dict[int, str]:
        """Source id -> name for a patient."""
        with self.engine.connect() as conn:
            return dict(conn.execute(
                select(s.sources.c.id, s.sources.c.name).where(
                    s.sources.c.patient_id == patient_id
                )
            ).all())
