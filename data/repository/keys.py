"""API keys: stored as SHA-256 of a random secret, found by a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from data import schema as s
from data.repository.base import RepositoryBase, now_ts

SCOPES = ("read", "ingest")


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts (never the secret)."""

    id: int
    user_id: int
    prefix: str
    scopes: tuple[str, ...]


class KeysMixin(RepositoryBase):
    """Create and check API keys."""

    def create_api_key(self, user_id: int, scopes: list[str]) -> str:
        """A new key; the returned token is shown once and never stored."""
        bad = set(scopes) - set(SCOPES)
        if bad or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(s.api_keys).values(
                user_id=user_id, prefix=prefix, secret_hash=_digest(secret),
                scopes=",".join(sorted(scopes)), created_ts=now_ts(),
            ))
        return f"hd_{prefix}_{secret}"

    def check_api_key(self, token: str) -> ApiKey | None:
        """The key a token belongs to, if valid and not revoked; records its use."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "hd":
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(s.api_keys).where(
                s.api_keys.c.prefix == parts[1], s.api_keys.c.revoked_ts.is_(None)
            )).mappings().first()
            if row is None or not hmac.compare_digest(row["secret_hash"], _digest(parts[2])):
                return None
            conn.execute(update(s.api_keys).where(s.api_keys.c.id == row["id"])
                         .values(last_used_ts=now_ts()))
        return ApiKey(row["id"], row["user_id"], row["prefix"], tuple(row["scopes"].split(",")))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
