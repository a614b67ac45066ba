"""API keys: stored as SHA-256 of a random secret, found by a visible prefix.

Creating and revoking a key writes an audit event in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from data import schema as s
from data.access import Principal
from data.repository.base import RepositoryBase, now_ts

SCOPES = ("read", "ingest")
_TOKEN = re.compile(r"hd_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})")


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts (never the secret)."""

    id: int
    user_id: int
    prefix: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as its owner's settings page lists it."""

    id: int
    prefix: str
    scopes: tuple[str, ...]
    created_ts: int
    last_used_ts: int | None
    revoked_ts: int | None


class KeysMixin(RepositoryBase):
    """Create, list, revoke and check API keys."""

    def create_api_key(self, user_id: int, scopes: list[str], *,
                       actor: Principal | None = None, ip: str | None = None) -> str:
        """A new key; the returned token is shown once and never stored.

        `actor` is who asked (the user on the settings page; the operator at the shell when
        None); the audit event never holds the secret.
        """
        bad = set(scopes) - set(SCOPES)
        if bad or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(s.api_keys).values(
                user_id=user_id, prefix=prefix, secret_hash=_digest(secret),
                scopes=",".join(sorted(set(scopes))), created_ts=now_ts(),
            ))
            self.record("api_key_create", actor=actor or Principal.system(),
                        target=f"api_key:{prefix}",
                        detail={"user_id": user_id, "scopes": sorted(set(scopes))},
                        ip=ip, conn=conn)
        return f"hd_{prefix}_{secret}"

    def api_keys_of(self, user_id: int) -> list[ApiKeyInfo]:
        """A user's keys, newest first, revoked ones included."""
        k = s.api_keys
        with self.engine.connect() as conn:
            rows = conn.execute(select(k).where(k.c.user_id == user_id)
                                .order_by(k.c.created_ts.desc(), k.c.id.desc())).mappings()
            return [ApiKeyInfo(r["id"], r["prefix"], tuple(r["scopes"].split(",")),
                               r["created_ts"], r["last_used_ts"], r["revoked_ts"])
                    for r in rows]

    def revoke_api_key(self, user_id: int, key_id: int, *, actor: Principal | None = None,
                       ip: str | None = None) -> bool:
        """Revoke one of the user's own keys; False when it is not theirs or already revoked."""
        k = s.api_keys
        with self.engine.begin() as conn:
            prefix = conn.execute(select(k.c.prefix).where(
                k.c.id == key_id, k.c.user_id == user_id, k.c.revoked_ts.is_(None))).scalar()
            if prefix is None:
                return False
            conn.execute(update(k).where(k.c.id == key_id).values(revoked_ts=now_ts()))
            self.record("api_key_revoke", actor=actor or Principal.system(),
                        target=f"api_key:{prefix}", detail={"user_id": user_id}, ip=ip,
                        conn=conn)
        return True

    def check_api_key(self, token: str) -> ApiKey | None:
        """The key a token belongs to, if valid and not revoked; records its use.

        Anything not shaped like a key is refused before the database sees it.
        """
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        prefix, secret = match.groups()
        with self.engine.begin() as conn:
            row = conn.execute(select(s.api_keys).where(
                s.api_keys.c.prefix == prefix, s.api_keys.c.revoked_ts.is_(None)
            )).mappings().first()
            if row is None or not hmac.compare_digest(row["secret_hash"], _digest(secret)):
                return None
            conn.execute(update(s.api_keys).where(s.api_keys.c.id == row["id"])
                         .values(last_used_ts=now_ts()))
        return ApiKey(row["id"], row["user_id"], row["prefix"], tuple(row["scopes"].split(",")))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
