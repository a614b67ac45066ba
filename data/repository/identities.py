"""Single sign-on identities: the OpenID Connect (issuer, subject) an account is bound to.

An account is bound to at most one (issuer, subject), and each pair to at most one account
(unique in the schema). Binding, creating and role changes write audit events in the same
transaction as the change.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from data import schema as s
from data.access import Principal
from data.repository.base import RepositoryBase, now_ts


class IdentityMixin(RepositoryBase):
    """Find, bind and create accounts for OpenID Connect sign-in."""

    def oidc_user_id(self, issuer: str, subject: str) -> int | None:
        """The account bound to this issuer and subject, if any."""
        u = s.users
        with self.engine.connect() as conn:
            return conn.execute(select(u.c.id).where(
                u.c.oidc_issuer == issuer, u.c.oidc_subject == subject)).scalar()

    def oidc_binding(self, user_id: int) -> tuple[str, str] | None:
        """The (issuer, subject) an account is bound to, if any."""
        u = s.users
        with self.engine.connect() as conn:
            row = conn.execute(select(u.c.oidc_issuer, u.c.oidc_subject)
                               .where(u.c.id == user_id)).first()
        return (row[0], row[1]) if row and row[0] and row[1] else None

    def bind_oidc(self, user_id: int, issuer: str, subject: str, *,
                  actor: Principal | None = None, ip: str | None = None) -> bool:
        """Bind an unbound account to (issuer, subject); False when it is already bound."""
        u = s.users
        with self.engine.begin() as conn:
            done = conn.execute(update(u).where(
                u.c.id == user_id, u.c.oidc_subject.is_(None)
            ).values(oidc_issuer=issuer, oidc_subject=subject)).rowcount
            if done:
                self.record("sso_bind", actor=actor or Principal.system(),
                            target=f"user:{user_id}",
                            detail={"issuer": issuer, "subject": subject}, ip=ip, conn=conn)
        return bool(done)

    def create_oidc_user(self, email: str, display_name: str, role: str, issuer: str,
                         subject: str, *, timezone: str = "UTC", ip: str | None = None) -> int:
        """A new account bound to (issuer, subject), without a password; a patient account
        gets its patient record. Raises ValueError when the e-mail is taken."""
        email = email.strip().lower()
        u = s.users
        with self.engine.begin() as conn:
            if conn.execute(select(u.c.id).where(u.c.email == email)).first():
                raise ValueError(f"a user with e-mail {email} already exists")
            user_id = conn.execute(insert(u).values(
                email=email, display_name=display_name[:200], role=role, password_hash=None,
                active=True, created_ts=now_ts(), oidc_issuer=issuer, oidc_subject=subject,
            ).returning(u.c.id)).scalar_one()
            if role == "patient":
                conn.execute(insert(s.patients).values(
                    name=display_name[:200], timezone=timezone, user_id=user_id,
                    created_ts=now_ts()))
            self.record("user_create", actor=Principal.system(), actor_label="sso",
                        target=f"user:{user_id}",
                        detail={"via": "oidc", "issuer": issuer, "subject": subject,
                                "role": role}, ip=ip, conn=conn)
        return user_id

    def update_oidc_role(self, user_id: int, role: str, *, ip: str | None = None) -> bool:
        """Give an SSO account the role its groups map to; True when it changed.

        A patient account keeps its patient record; a new patient gets one.
        """
        u = s.users
        with self.engine.begin() as conn:
            row = conn.execute(select(u.c.role, u.c.display_name)
                               .where(u.c.id == user_id)).first()
            if row is None or row[0] == role:
                return False
            conn.execute(update(u).where(u.c.id == user_id).values(role=role))
            has_record = conn.execute(select(s.patients.c.id)
                                      .where(s.patients.c.user_id == user_id)).first()
            if role == "patient" and not has_record:
                conn.execute(insert(s.patients).values(
                    name=row[1], timezone="UTC", user_id=user_id, created_ts=now_ts()))
            self.record("role_change", actor=Principal.system(), actor_label="sso",
                        target=f"user:{user_id}",
                        detail={"via": "oidc", "from": row[0], "to": role}, ip=ip, conn=conn)
        return True
