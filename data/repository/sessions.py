"""Server-side sign-in sessions and the failed-sign-in counter (lockout).

The browser keeps a random session token in its signed cookie; the database keeps only the
token's SHA-256 (`user_sessions.id`), so a copy of the table opens no session. A session is
live while it has not been ended, has been used within the idle timeout and is younger than
the absolute lifetime. Sign-out, expiry and deactivation end the row for good: a replayed
cookie then opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from data import schema as s
from data.repository.base import RepositoryBase, now_ts

TOUCH_EVERY_S = 60  # last_seen is written at most once a minute per session


def token_digest(token: str) -> str:
    """The stored id of a session token: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of looking a session token up.

    `user_id` is set only when the session is live. `expired` says why a session ran out
    ("idle", "lifetime"; empty for an unknown or signed-out one), the same for every request
    that still carries it, so the person is told why; `ended_now` is true for the one check
    that ended it (audit it once).
    """

    user_id: int | None
    expired: str = ""
    ended_now: bool = False
    session_id: str = ""


@dataclass(frozen=True)
class LoginState:
    """An account's failed-sign-in counter and lock."""

    failed_logins: int
    locked_until: int | None

    def locked(self, now: int) -> bool:
        return self.locked_until is not None and self.locked_until > now


class SessionsMixin(RepositoryBase):
    """Start, check, touch and end sign-in sessions; count failed sign-ins."""

    def start_session(self, user_id: int, *, ip: str | None = None,
                      user_agent: str | None = None, now: int | None = None) -> str:
        """A new session for the user; returns the token for the cookie (never stored)."""
        token = secrets.token_urlsafe(32)
        ts = now_ts() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(insert(s.user_sessions).values(
                id=token_digest(token), user_id=user_id, created_ts=ts, last_seen_ts=ts,
                ended_ts=None, ip=(ip or None) and ip[:64],
                user_agent=(user_agent or None) and user_agent[:300],
            ))
        return token

    def check_session(self, token: str, *, idle_s: int, max_age_s: int,
                      now: int | None = None) -> SessionCheck:
        """The user of a live session (touching it), or why there is none.

        An idle or too old session is ended here, once (`ended_now`); later checks of the
        same token report the same reason.
        """
        ts = now_ts() if now is None else now
        sid = token_digest(token)
        t = s.user_sessions
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.c.user_id, t.c.created_ts, t.c.last_seen_ts, t.c.ended_ts)
                .where(t.c.id == sid)
            ).first()
            if row is None:
                return SessionCheck(None, session_id=sid)
            end = ts if row.ended_ts is None else row.ended_ts
            reason = ""
            if end - row.created_ts > max_age_s:
                reason = "lifetime"
            elif end - row.last_seen_ts > idle_s:
                reason = "idle"
            if row.ended_ts is not None:  # ended earlier: by sign-out, or it ran out then
                return SessionCheck(None, expired=reason, session_id=sid)
            if reason:
                ended = conn.execute(
                    update(t).where(t.c.id == sid, t.c.ended_ts.is_(None)).values(ended_ts=ts)
                ).rowcount
                return SessionCheck(None, expired=reason, ended_now=bool(ended),
                                    session_id=sid)
            if ts - row.last_seen_ts >= TOUCH_EVERY_S:
                conn.execute(update(t).where(t.c.id == sid).values(last_seen_ts=ts))
            return SessionCheck(row.user_id, session_id=sid)

    def end_session(self, token: str, now: int | None = None) -> bool:
        """End one session (sign-out); True when it was still open."""
        ts = now_ts() if now is None else now
        t = s.user_sessions
        with self.engine.begin() as conn:
            return bool(conn.execute(
                update(t).where(t.c.id == token_digest(token), t.c.ended_ts.is_(None))
                .values(ended_ts=ts)
            ).rowcount)

    def end_user_sessions(self, user_id: int, now: int | None = None) -> int:
        """End every open session of a user (deactivation, password change); how many."""
        ts = now_ts() if now is None else now
        t = s.user_sessions
        with self.engine.begin() as conn:
            return conn.execute(
                update(t).where(t.c.user_id == user_id, t.c.ended_ts.is_(None))
                .values(ended_ts=ts)
            ).rowcount

    def login_state(self, user_id: int) -> LoginState:
        """The account's failed-sign-in counter and lock."""
        u = s.users
        with self.engine.connect() as conn:
            row = conn.execute(
                select(u.c.failed_logins, u.c.locked_until).where(u.c.id == user_id)
            ).first()
        if row is None:
            return LoginState(0, None)
        return LoginState(int(row.failed_logins or 0), row.locked_until)

    def note_failed_login(self, user_id: int, *, max_failures: int, lock_s: int,
                          now: int | None = None) -> bool:
        """Count one failed sign-in; at `max_failures` in a row lock the account.

        Returns True when this failure locked the account. The counter restarts at the
        lock, so after the lock runs out the account gets `max_failures` tries again.
        Failures while locked are not counted and do not extend the lock.
        """
        ts = now_ts() if now is None else now
        u = s.users
        with self.engine.begin() as conn:
            locked_until = conn.execute(
                select(u.c.locked_until).where(u.c.id == user_id)
            ).scalar()
            if locked_until is not None and locked_until > ts:
                return False
            count = conn.execute(
                update(u).where(u.c.id == user_id)
                .values(failed_logins=u.c.failed_logins + 1)
                .returning(u.c.failed_logins)
            ).scalar()
            if count is None or count < max_failures:
                return False
            conn.execute(update(u).where(u.c.id == user_id).values(
                failed_logins=0, locked_until=ts + lock_s))
            return True

    def reset_failed_logins(self, user_id: int) -> None:
        """A successful sign-in: counter to zero, no lock."""
        u = s.users
        with self.engine.begin() as conn:
            conn.execute(update(u).where(u.c.id == user_id).values(
                failed_logins=0, locked_until=None))
