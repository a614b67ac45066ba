"""Consent: caregivers by invitation, care-team grants, user administration, break-glass.

Every grant, revocation, invitation, acceptance, assignment, role change and break-glass
start or end writes its audit event in the same transaction as the change, with the
patient's id and a detail naming the other party: the change and its record commit or roll
back together.

Who may do what here (reads of health data stay with `can_see`/`authorize`):

- a patient manages their own caregivers and clinicians (`owner`: the patient themselves);
- an admin assigns or removes clinicians, manages users and roles, and opens break-glass;
- the system (CLI, tests, seeding) may do everything.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from data import schema as s
from data.access import ROLES, AccessDenied, Principal
from data.repository.base import RepositoryBase, now_ts

INVITATION_TTL_S = 7 * 86400
BREAK_GLASS_DEFAULT_MIN = 30
BREAK_GLASS_MAX_MIN = 4 * 60
BREAK_GLASS_MIN_REASON = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Invitation:
    """A caregiver invitation as the patient lists it (never the token)."""

    id: int
    patient_id: int
    email: str
    created_ts: int
    expires_ts: int
    accepted_ts: int | None


@dataclass(frozen=True)
class InvitationView:
    """What the invited person sees before accepting."""

    patient_id: int
    patient_name: str
    invited_by: str
    email: str
    expires_ts: int


@dataclass(frozen=True)
class Grant:
    """Someone with access to a patient: a caregiver or a clinician on the care team."""

    user_id: int
    name: str
    email: str
    role: str
    since_ts: int
    granted_by: str


@dataclass(frozen=True)
class BreakGlass:
    """An admin's time-limited, stated-reason access to one patient."""

    id: int
    admin_id: int
    admin_name: str
    patient_id: int
    patient_name: str
    reason: str
    started_ts: int
    expires_ts: int
    ended_ts: int | None

    def live(self, now: int | None = None) -> bool:
        """Not ended and not expired."""
        return self.ended_ts is None and self.expires_ts > (now if now is not None else now_ts())


def token_hash(token: str) -> str:
    """SHA-256 of an invitation token (the only form stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _email(value: str) -> str:
    email = (value or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValueError("enter a valid e-mail address")
    return email


class ConsentMixin(RepositoryBase):
    """Caregivers, care-team grants, users and roles, break-glass."""

    # --- who may manage whom ---------------------------------------------------------------

    def _require_owner(self, principal: Principal, patient_id: int) -> None:
        """The patient themselves (or the system) manage who sees their data."""
        if principal.role == "system":
            return
        if principal.role == "patient" and principal.patient_id == patient_id:
            return
        raise AccessDenied(f"{principal} may not manage access to patient {patient_id}")

    @staticmethod
    def _require_admin(principal: Principal) -> None:
        if principal.role not in ("admin", "system"):
            raise AccessDenied(f"{principal} is not an administrator")

    def _require_patient(self, conn: Connection, patient_id: int) -> str:
        name = conn.execute(select(s.patients.c.name).where(
            s.patients.c.id == int(patient_id))).scalar()
        if name is None:
            raise KeyError(f"no patient with id {patient_id}")
        return name

    @staticmethod
    def _label(conn: Connection, user_id: int | None) -> str:
        if user_id is None:
            return "the system"
        row = conn.execute(select(s.users.c.display_name, s.users.c.email).where(
            s.users.c.id == user_id)).first()
        return f"{row[0]} <{row[1]}>" if row else "former user"

    # --- caregivers: invitations -----------------------------------------------------------

    def invite_caregiver(self, principal: Principal, patient_id: int, email: str, *,
                         ip: str | None = None) -> str:
        """Create an invitation for this e-mail; returns the token (shown once, never stored).

        Only the token's SHA-256 is kept; the invitation expires in 7 days and works once.
        """
        self._require_owner(principal, patient_id)
        email = _email(email)
        token = secrets.token_urlsafe(32)
        now = now_ts()
        with self.engine.begin() as conn:
            self._require_patient(conn, patient_id)
            invitation_id = conn.execute(insert(s.invitations).values(
                token_hash=token_hash(token), patient_id=patient_id, role="caregiver",
                email=email, created_by=principal.user_id, created_ts=now,
                expires_ts=now + INVITATION_TTL_S,
            ).returning(s.invitations.c.id)).scalar_one()
            self.record(  # type: ignore[attr-defined]
                "invitation.create", actor=principal, patient_id=patient_id,
                target=f"invitation:{invitation_id}", ip=ip, conn=conn,
                detail={"email": email, "role": "caregiver",
                        "expires_ts": now + INVITATION_TTL_S})
        return token

    def invitations(self, principal: Principal, patient_id: int) -> list[Invitation]:
        """The patient's pending invitations (not accepted, not expired), newest first."""
        self._require_owner(principal, patient_id)
        t = s.invitations
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(
                t.c.patient_id == patient_id, t.c.accepted_ts.is_(None),
                t.c.expires_ts > now_ts()).order_by(t.c.id.desc())).mappings().all()
        return [Invitation(r["id"], r["patient_id"], r["email"], r["created_ts"],
                           r["expires_ts"], r["accepted_ts"]) for r in rows]

    def cancel_invitation(self, principal: Principal, patient_id: int, invitation_id: int, *,
                          ip: str | None = None) -> bool:
        """Withdraw a pending invitation (it expires now); False when there was none."""
        self._require_owner(principal, patient_id)
        t = s.invitations
        now = now_ts()
        with self.engine.begin() as conn:
            row = conn.execute(select(t.c.email).where(
                t.c.id == invitation_id, t.c.patient_id == patient_id,
                t.c.accepted_ts.is_(None), t.c.expires_ts > now)).first()
            if row is None:
                return False
            conn.execute(update(t).where(t.c.id == invitation_id).values(expires_ts=now))
            self.record(  # type: ignore[attr-defined]
                "invitation.cancel", actor=principal, patient_id=patient_id,
                target=f"invitation:{invitation_id}", ip=ip, conn=conn,
                detail={"email": row[0]})
        return True

    def _open_invitation(self, conn: Connection, principal: Principal, token: str):
        """The invitation row for a token this principal may accept; ValueError otherwise."""
        if principal.user_id is None:
            raise AccessDenied("sign in to accept an invitation")
        t = s.invitations
        row = conn.execute(select(t).where(t.c.token_hash == token_hash(token or ""))
                           ).mappings().first()
        user = conn.execute(select(s.users.c.email, s.users.c.role).where(
            s.users.c.id == principal.user_id)).first()
        # one message for unknown tokens and other people's: a link proves nothing by itself
        if row is None or user is None or user[0] != row["email"]:
            raise ValueError("this invitation link is not valid for your account")
        if row["accepted_ts"] is not None:
            raise ValueError("this invitation has already been used")
        if row["expires_ts"] <= now_ts():
            raise ValueError("this invitation has expired; ask for a new one")
        if user[1] != row["role"] or principal.role != row["role"]:
            raise ValueError(f"only a {row['role']} account can accept this invitation; "
                             "ask your administrator")
        return row

    def invitation_for(self, principal: Principal, token: str) -> InvitationView:
        """What the signed-in invitee is accepting; ValueError (with the reason) otherwise."""
        with self.engine.connect() as conn:
            row = self._open_invitation(conn, principal, token)
            name = self._require_patient(conn, row["patient_id"])
            by = conn.execute(select(s.users.c.display_name).where(
                s.users.c.id == row["created_by"])).scalar() if row["created_by"] else None
        return InvitationView(row["patient_id"], name, by or name, row["email"],
                              row["expires_ts"])

    def accept_invitation(self, principal: Principal, token: str, *,
                          ip: str | None = None) -> int:
        """Accept an invitation addressed to this user: they become a caregiver of the patient.

        Single use: the invitation is claimed with a conditional UPDATE, so two tabs (or two
        people with the link) cannot both accept it. Returns the patient id.
        """
        t, cg = s.invitations, s.caregivers
        now = now_ts()
        with self.engine.begin() as conn:
            row = self._open_invitation(conn, principal, token)
            claimed = conn.execute(update(t).where(
                t.c.id == row["id"], t.c.accepted_ts.is_(None), t.c.expires_ts > now,
            ).values(accepted_ts=now, accepted_by=principal.user_id)).rowcount
            if claimed != 1:
                raise ValueError("this invitation has already been used")
            live = conn.execute(select(cg.c.id).where(
                cg.c.patient_id == row["patient_id"], cg.c.caregiver_id == principal.user_id,
                cg.c.revoked_ts.is_(None))).first()
            if live is None:
                conn.execute(insert(cg).values(
                    patient_id=row["patient_id"], caregiver_id=principal.user_id,
                    granted_by=row["created_by"], granted_ts=now))
            self.record(  # type: ignore[attr-defined]
                "caregiver.grant", actor=principal, patient_id=row["patient_id"],
                target=f"user:{principal.user_id}", ip=ip, conn=conn,
                detail={"caregiver": self._label(conn, principal.user_id),
                        "invited_by": self._label(conn, row["created_by"]),
                        "invitation": row["id"]})
        return row["patient_id"]

    # --- caregivers: list and revoke -------------------------------------------------------

    def caregivers(self, principal: Principal, patient_id: int) -> list[Grant]:
        """The patient's caregivers with a live grant, oldest first."""
        self._require_owner(principal, patient_id)
        cg, u = s.caregivers, s.users
        by = u.alias("granter")
        query = (
            select(u.c.id, u.c.display_name, u.c.email, cg.c.granted_ts, by.c.display_name)
            .select_from(cg.join(u, u.c.id == cg.c.caregiver_id)
                         .outerjoin(by, by.c.id == cg.c.granted_by))
            .where(cg.c.patient_id == patient_id, cg.c.revoked_ts.is_(None))
            .order_by(cg.c.granted_ts, cg.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Grant(r[0], r[1], r[2], "caregiver", r[3], r[4] or "the system") for r in rows]

    def revoke_caregiver(self, principal: Principal, patient_id: int, caregiver_id: int, *,
                         ip: str | None = None) -> bool:
        """End a caregiver's access now (their next request sees nothing); False if none."""
        self._require_owner(principal, patient_id)
        cg = s.caregivers
        now = now_ts()
        with self.engine.begin() as conn:
            ended = conn.execute(update(cg).where(
                cg.c.patient_id == patient_id, cg.c.caregiver_id == caregiver_id,
                cg.c.revoked_ts.is_(None),
            ).values(revoked_ts=now, revoked_by=principal.user_id)).rowcount
            if not ended:
                return False
            self.record(  # type: ignore[attr-defined]
                "caregiver.revoke", actor=principal, patient_id=patient_id,
                target=f"user:{caregiver_id}", ip=ip, conn=conn,
                detail={"caregiver": self._label(conn, caregiver_id)})
        return True

    # --- clinicians: the care team ---------------------------------------------------------

    def _require_team_manager(self, principal: Principal, patient_id: int) -> None:
        """The patient themselves, an admin, or the system change a care team."""
        if principal.role in ("admin", "system"):
            return
        self._require_owner(principal, patient_id)

    def care_team(self, principal: Principal, patient_id: int) -> list[Grant]:
        """The clinicians on a patient's care team (the patient, admins, the system)."""
        self._require_team_manager(principal, patient_id)
        ct, u = s.care_team, s.users
        by = u.alias("adder")
        query = (
            select(u.c.id, u.c.display_name, u.c.email, ct.c.added_ts, by.c.display_name)
            .select_from(ct.join(u, u.c.id == ct.c.clinician_id)
                         .outerjoin(by, by.c.id == ct.c.added_by))
            .where(ct.c.patient_id == patient_id)
            .order_by(u.c.display_name, u.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Grant(r[0], r[1], r[2], "clinician", r[3], r[4] or "the system") for r in rows]

    def grant_clinician(self, principal: Principal, patient_id: int, clinician_id: int, *,
                        ip: str | None = None) -> bool:
        """Put a clinician on the care team (patient grant or admin assignment).

        The account must be an active clinician. Returns False when they already were.
        """
        self._require_team_manager(principal, patient_id)
        ct = s.care_team
        with self.engine.begin() as conn:
            self._require_patient(conn, patient_id)
            user = conn.execute(select(s.users.c.role, s.users.c.active).where(
                s.users.c.id == clinician_id)).first()
            if user is None or user[0] != "clinician" or not user[1]:
                raise ValueError("that account is not an active clinician")
            exists = conn.execute(select(ct.c.clinician_id).where(
                ct.c.clinician_id == clinician_id, ct.c.patient_id == patient_id)).first()
            if exists:
                return False
            conn.execute(insert(ct).values(clinician_id=clinician_id, patient_id=patient_id,
                                           added_ts=now_ts(), added_by=principal.user_id))
            self.record(  # type: ignore[attr-defined]
                "care_team.grant" if principal.role == "patient" else "care_team.assign",
                actor=principal, patient_id=patient_id, target=f"user:{clinician_id}",
                ip=ip, conn=conn, detail={"clinician": self._label(conn, clinician_id)})
        return True

    def grant_clinician_by_email(self, principal: Principal, patient_id: int, email: str, *,
                                 ip: str | None = None) -> bool:
        """`grant_clinician` for the clinician account with this e-mail."""
        self._require_team_manager(principal, patient_id)
        user = self.user_by_email(_email(email))  # type: ignore[attr-defined]
        if user is None or user.role != "clinician" or not user.active:
            raise ValueError("there is no active clinician account with that e-mail")
        return self.grant_clinician(principal, patient_id, user.id, ip=ip)

    def revoke_clinician(self, principal: Principal, patient_id: int, clinician_id: int, *,
                         ip: str | None = None) -> bool:
        """Take a clinician off the care team now; False when they were not on it."""
        self._require_team_manager(principal, patient_id)
        ct = s.care_team
        with self.engine.begin() as conn:
            gone = conn.execute(delete(ct).where(
                ct.c.clinician_id == clinician_id, ct.c.patient_id == patient_id)).rowcount
            if not gone:
                return False
            self.record(  # type: ignore[attr-defined]
                "care_team.revoke" if principal.role == "patient" else "care_team.remove",
                actor=principal, patient_id=patient_id, target=f"user:{clinician_id}",
                ip=ip, conn=conn, detail={"clinician": self._label(conn, clinician_id)})
        return True

    # --- users and roles (admins) ----------------------------------------------------------

    def list_users(self, principal: Principal) -> list:
        """Every account, by e-mail (admins only)."""
        self._require_admin(principal)
        with self.engine.connect() as conn:
            ids = conn.execute(select(s.users.c.id).order_by(s.users.c.email)).scalars().all()
        return [self.user_by_id(i) for i in ids]  # type: ignore[attr-defined]

    def patient_directory(self, principal: Principal) -> list[tuple[int, str]]:
        """(id, name) of every patient, to pick one for an assignment or break-glass.

        Admins only; names and ids, no health data.
        """
        self._require_admin(principal)
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(s.patients.c.id, s.patients.c.name)
                .order_by(s.patients.c.name, s.patients.c.id)).all()]

    def assignments(self, principal: Principal) -> list[tuple[int, str, int, str]]:
        """Every (clinician id, clinician name, patient id, patient name) pair (admins)."""
        self._require_admin(principal)
        ct, u, p = s.care_team, s.users, s.patients
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(u.c.id, u.c.display_name, p.c.id, p.c.name)
                .select_from(ct.join(u, u.c.id == ct.c.clinician_id)
                             .join(p, p.c.id == ct.c.patient_id))
                .order_by(u.c.display_name, p.c.name)).all()]

    def set_role(self, principal: Principal, user_id: int, role: str, *,
                 ip: str | None = None) -> bool:
        """Change an account's role (not one's own); False when it already had it."""
        self._require_admin(principal)
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if user_id == principal.user_id:
            raise ValueError("you cannot change your own role")
        with self.engine.begin() as conn:
            old = conn.execute(select(s.users.c.role).where(s.users.c.id == user_id)).scalar()
            if old is None:
                raise KeyError(f"no user with id {user_id}")
            if old == role:
                return False
            conn.execute(update(s.users).where(s.users.c.id == user_id).values(role=role))
            self.record(  # type: ignore[attr-defined]
                "user.role", actor=principal, target=f"user:{user_id}", ip=ip, conn=conn,
                detail={"user": self._label(conn, user_id), "from": old, "to": role})
        return True

    def set_active(self, principal: Principal, user_id: int, active: bool, *,
                   ip: str | None = None) -> bool:
        """Activate or deactivate an account (not one's own); False when unchanged."""
        self._require_admin(principal)
        if user_id == principal.user_id:
            raise ValueError("you cannot deactivate your own account")
        with self.engine.begin() as conn:
            old = conn.execute(select(s.users.c.active).where(s.users.c.id == user_id)
                               ).first()
            if old is None:
                raise KeyError(f"no user with id {user_id}")
            if bool(old[0]) == bool(active):
                return False
            conn.execute(update(s.users).where(s.users.c.id == user_id)
                         .values(active=bool(active)))
            self.record(  # type: ignore[attr-defined]
                "user.activate" if active else "user.deactivate", actor=principal,
                target=f"user:{user_id}", ip=ip, conn=conn,
                detail={"user": self._label(conn, user_id)})
        return True

    # --- break-glass -----------------------------------------------------------------------

    def start_break_glass(self, principal: Principal, patient_id: int, reason: str,
                          minutes: int = BREAK_GLASS_DEFAULT_MIN, *,
                          ip: str | None = None) -> BreakGlass:
        """Open an admin's read-only access to one patient for a stated reason and time.

        The reason needs at least 10 characters; the duration 1 minute to 4 hours.
        """
        if principal.role != "admin" or principal.user_id is None:
            raise AccessDenied("only administrators use break-glass access")
        reason = " ".join((reason or "").split())
        if len(reason) < BREAK_GLASS_MIN_REASON:
            raise ValueError(f"state the reason in at least {BREAK_GLASS_MIN_REASON} characters")
        try:
            minutes = int(minutes)
        except (TypeError, ValueError):
            raise ValueError("the duration must be a whole number of minutes") from None
        if not 1 <= minutes <= BREAK_GLASS_MAX_MIN:
            raise ValueError(f"the duration must be between 1 and {BREAK_GLASS_MAX_MIN} minutes")
        now = now_ts()
        bg = s.break_glass
        with self.engine.begin() as conn:
            name = self._require_patient(conn, patient_id)
            session_id = conn.execute(insert(bg).values(
                admin_id=principal.user_id, patient_id=patient_id, reason=reason[:2000],
                started_ts=now, expires_ts=now + minutes * 60,
            ).returning(bg.c.id)).scalar_one()
            self.record(  # type: ignore[attr-defined]
                "break_glass.start", actor=principal, patient_id=patient_id,
                target=f"break_glass:{session_id}", ip=ip, conn=conn,
                detail={"patient": name, "reason": reason, "minutes": minutes,
                        "expires_ts": now + minutes * 60})
        return self._break_glass(bg.c.id == session_id)[0]

    def end_break_glass(self, principal: Principal, session_id: int, *,
                        ip: str | None = None) -> bool:
        """End one of one's own live sessions now; False when it was not live."""
        if principal.role not in ("admin", "system"):
            raise AccessDenied("only administrators use break-glass access")
        bg = s.break_glass
        now = now_ts()
        with self.engine.begin() as conn:
            row = conn.execute(select(bg.c.admin_id, bg.c.patient_id).where(
                bg.c.id == session_id)).first()
            if row is None or (principal.role == "admin" and row[0] != principal.user_id):
                raise KeyError(f"no break-glass session {session_id}")
            ended = conn.execute(update(bg).where(
                bg.c.id == session_id, bg.c.ended_ts.is_(None), bg.c.expires_ts > now,
            ).values(ended_ts=now)).rowcount
            if not ended:
                return False
            self.record(  # type: ignore[attr-defined]
                "break_glass.end", actor=principal, patient_id=row[1],
                target=f"break_glass:{session_id}", ip=ip, conn=conn,
                detail={"patient": self._require_patient(conn, row[1]),
                        "admin": self._label(conn, row[0])})
        return True

    def break_glass_sessions(self, principal: Principal, *, live_only: bool = True
                             ) -> list[BreakGlass]:
        """An admin's own sessions (live ones by default), newest first."""
        self._require_admin(principal)
        bg = s.break_glass
        where = [bg.c.admin_id == principal.user_id] if principal.role == "admin" else []
        if live_only:
            where += [bg.c.ended_ts.is_(None), bg.c.expires_ts > now_ts()]
        return self._break_glass(*where)

    def break_glass_session(self, principal: Principal, patient_id: int) -> BreakGlass | None:
        """The admin's live session for this patient, if any (for banners and audit detail)."""
        if principal.role != "admin" or principal.user_id is None:
            return None
        bg = s.break_glass
        found = self._break_glass(bg.c.admin_id == principal.user_id,
                                  bg.c.patient_id == patient_id, bg.c.ended_ts.is_(None),
                                  bg.c.expires_ts > now_ts())
        return found[0] if found else None

    def break_glass_for_patient(self, principal: Principal, patient_id: int
                                ) -> list[BreakGlass]:
        """Live break-glass sessions on a patient: the patient sees who is looking, and why."""
        self._require_team_manager(principal, patient_id)
        bg = s.break_glass
        return self._break_glass(bg.c.patient_id == patient_id, bg.c.ended_ts.is_(None),
                                 bg.c.expires_ts > now_ts())

    def _break_glass(self, *where) -> list[BreakGlass]:
        bg, u, p = s.break_glass, s.users, s.patients
        query = (
            select(bg.c.id, bg.c.admin_id, u.c.display_name, bg.c.patient_id, p.c.name,
                   bg.c.reason, bg.c.started_ts, bg.c.expires_ts, bg.c.ended_ts)
            .select_from(bg.join(u, u.c.id == bg.c.admin_id).join(p, p.c.id == bg.c.patient_id))
            .where(*where).order_by(bg.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [BreakGlass(*r) for r in conn.execute(query).all()]
