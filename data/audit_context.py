"""Who is reading, through what: the context every audited read is recorded under.

The repository's single enforcement point (`authorize`) calls `note_access` after its
decision. The context says through which channel the read came ("page /patients/3",
"callback clin-graph-weight.figure", "api GET /api/v1/patients/3/series", "cli export",
"job report"), from which address, and remembers which patients it already logged, so a
callback that authorizes the same patient ten times writes one `read` event.

The web layer opens a context per request (`auth.audit_hooks`); background jobs and the
command line open one where they start (`scope`). It lives in `data` and uses a
`ContextVar`, so the repository needs neither Flask nor an extra parameter.

Rule for reads outside any context: a person's read (patient, caregiver, clinician,
admin) is still recorded, with the channel "direct" and no de-duplication; the system
principal's reads (migrations, seeding, internal jobs that are not about a person's
request) are not. Inside a context every principal is recorded, the system included
(`healthdash export` is an export of a patient's data even when run by the operator).

A failure to write the event propagates: a read that cannot be audited does not happen.
"""

from __future__ import annotations

import functools
import getpass
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from data.access import Principal

READ = "read"
READ_DENIED = "read_denied"
_INT32 = 2**31 - 1
F = TypeVar("F", bound=Callable[..., Any])


class _Recorder(Protocol):
    def record(self, action: str, **kwargs: Any) -> int: ...

    def user_by_id(self, user_id: int) -> Any: ...


@dataclass
class AuditContext:
    """One request, job or command: the channel, the client and what was already logged."""

    channel: str
    ip: str | None = None
    actor_label: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    logged: set[tuple[int | None, str]] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)
    # access decisions already taken in this request or job: (principal, patient) -> allowed
    decisions: dict[tuple[Principal, int], bool] = field(default_factory=dict)


_current: ContextVar[AuditContext | None] = ContextVar("healthdash_audit_context",
                                                       default=None)


def current() -> AuditContext | None:
    """The context of this request or job, if one is open."""
    return _current.get()


def begin(channel: str, *, ip: str | None = None, actor_label: str = "",
          **detail: Any) -> Token:
    """Open a context; pass the returned token to `end`."""
    return _current.set(AuditContext(channel[:300], ip, actor_label, dict(detail)))


def end(token: Token) -> None:
    """Close the context opened by `begin`."""
    _current.reset(token)


@contextmanager
def scope(channel: str, *, ip: str | None = None, actor_label: str = "",
          **detail: Any) -> Iterator[AuditContext]:
    """A context for a background job or a command: `with scope("job report"): ...`."""
    token = begin(channel, ip=ip, actor_label=actor_label, **detail)
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        end(token)


def in_scope(channel: str, *, actor_label: str = "") -> Callable[[F], F]:
    """Decorator: run the function inside `scope(channel)` (background jobs, commands)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with scope(channel, actor_label=actor_label or operator_label()):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap


def operator_label() -> str:
    """Who runs this process, as far as the OS says ("system (cli, alice)")."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"system ({user}@{socket.gethostname()})"[:254]


def annotate(kind: str | None = None, **detail: Any) -> None:
    """Say more about the current read before it is logged.

    `kind` replaces the channel's first word ("api GET /…" → "export GET /…"); `detail`
    is stored with the event (format, metric, report id…). No-op outside a context.
    """
    ctx = _current.get()
    if ctx is None:
        return
    if kind:
        rest = ctx.channel.partition(" ")[2]
        ctx.channel = f"{kind} {rest}".strip()[:300]
    ctx.detail.update(detail)


def note_access(repo: _Recorder, principal: Principal, patient_id: Any, allowed: bool) -> None:
    """Record `read` or `read_denied` once per (context, patient): the hook in `authorize`."""
    ctx = _current.get()
    if ctx is None and principal.role == "system":
        return
    action = READ if allowed else READ_DENIED
    pid = _patient_id(patient_id)
    key = (pid, action)
    if ctx is not None and key in ctx.logged:
        return
    detail = dict(ctx.detail) if ctx is not None else {}
    if pid is None and patient_id is not None:
        detail["patient"] = str(patient_id)[:64]
    repo.record(
        action, actor=principal, actor_label=_label(repo, principal, ctx),
        patient_id=pid, target=ctx.channel if ctx is not None else "direct",
        detail=detail, ip=ctx.ip if ctx is not None else None,
    )
    if ctx is not None:
        ctx.logged.add(key)


def _patient_id(value: Any) -> int | None:
    try:
        pid = int(value)
    except (TypeError, ValueError):
        return None
    return pid if -_INT32 <= pid <= _INT32 else None


def _label(repo: _Recorder, principal: Principal, ctx: AuditContext | None) -> str:
    """The actor as people read it: the user's e-mail, else the context's label."""
    if principal.user_id is None:
        return (ctx.actor_label if ctx is not None else "") or str(principal)
    if ctx is not None and principal.user_id in ctx.labels:
        return ctx.labels[principal.user_id]
    user = repo.user_by_id(principal.user_id)
    label = user.email if user is not None else str(principal)
    if ctx is not None:
        ctx.labels[principal.user_id] = label
    return label
