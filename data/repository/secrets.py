"""Secrets at rest (provider OAuth tokens and the like), encrypted with `data.secrets`.

These methods take no `Principal`: they serve trusted code (provider syncs, the CLI), never a
web request directly. A secret belongs to a patient, a user, or both, and is named by
(provider, name). Values are sealed to their row, so rotation and reads check both.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, insert, select, update

from data import schema as s
from data.repository.base import RepositoryBase, now_ts
from data.secrets import SecretBox


class SecretsMixin(RepositoryBase):
    """Store, read, delete and re-encrypt secrets."""

    secret_box: SecretBox | None = None

    def configure_secrets(self, box: SecretBox) -> None:
        """The key ring secrets are encrypted with (bound in create_app and the CLI)."""
        self.secret_box = box

    def _box(self) -> SecretBox:
        if self.secret_box is None:
            raise RuntimeError("secret keys are not configured (Repository.configure_secrets)")
        return self.secret_box

    def put_secret(self, provider: str, name: str, value: str, *, patient_id: int | None = None,
                   user_id: int | None = None) -> None:
        """Store or replace one secret."""
        context = _context(provider, name, patient_id, user_id)
        token = self._box().seal(value, context)
        t = s.secrets
        now = now_ts()
        with self.engine.begin() as conn:
            # NULL owners never collide in a unique constraint on PostgreSQL: look first
            row_id = conn.execute(select(t.c.id).where(_owner(provider, name, patient_id,
                                                               user_id))).scalar()
            if row_id is None:
                conn.execute(insert(t).values(
                    patient_id=patient_id, user_id=user_id, provider=provider, name=name,
                    ciphertext=token, created_ts=now, updated_ts=now))
            else:
                conn.execute(update(t).where(t.c.id == row_id)
                             .values(ciphertext=token, updated_ts=now))

    def get_secret(self, provider: str, name: str, *, patient_id: int | None = None,
                   user_id: int | None = None) -> str | None:
        """The secret's value, None when there is none; SecretUnreadable when no key opens it."""
        context = _context(provider, name, patient_id, user_id)
        with self.engine.connect() as conn:
            token = conn.execute(select(s.secrets.c.ciphertext).where(
                _owner(provider, name, patient_id, user_id))).scalar()
        return None if token is None else self._box().open(token, context)

    def delete_secret(self, provider: str, name: str, *, patient_id: int | None = None,
                      user_id: int | None = None) -> bool:
        """Remove a secret; True when there was one."""
        _context(provider, name, patient_id, user_id)
        with self.engine.begin() as conn:
            gone = conn.execute(delete(s.secrets).where(
                _owner(provider, name, patient_id, user_id))).rowcount
        return bool(gone)

    def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret under the newest key; returns how many.

        One transaction: either every secret moves to the newest key or none does (a secret
        no key opens stops the run with SecretUnreadable and changes nothing).
        """
        box = self._box()
        t = s.secrets
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.c.id, t.c.ciphertext).order_by(t.c.id)).all()
            for row_id, token in rows:
                conn.execute(update(t).where(t.c.id == row_id)
                             .values(ciphertext=box.rotate(token), updated_ts=now_ts()))
        return len(rows)


def _context(provider: str, name: str, patient_id: int | None, user_id: int | None) -> list:
    if patient_id is None and user_id is None:
        raise ValueError("a secret belongs to a patient, a user or both")
    if not provider or not name:
        raise ValueError("a secret needs a provider and a name")
    return [patient_id, user_id, provider, name]


def _owner(provider: str, name: str, patient_id: int | None, user_id: int | None):
    t = s.secrets
    return and_(
        t.c.provider == provider, t.c.name == name,
        t.c.patient_id.is_(None) if patient_id is None else t.c.patient_id == patient_id,
        t.c.user_id.is_(None) if user_id is None else t.c.user_id == user_id,
    )
