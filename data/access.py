"""Who is asking. Every read of patient data in the repository takes a `Principal`.

Lives in `data` (not `auth`) so the repository can enforce access without importing the
web layer; `auth` builds principals from sessions and API keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["patient", "clinician", "admin", "system"]
ROLES: tuple[str, ...] = ("patient", "clinician", "admin")


class AccessDenied(PermissionError):
    """The principal may not see this patient's data."""


@dataclass(frozen=True)
class Principal:
    """An authenticated actor: a user with a role, or the system itself (CLI, jobs)."""

    user_id: int | None
    role: Role
    patient_id: int | None = None

    @classmethod
    def system(cls) -> Principal:
        """The operator at the shell and trusted background jobs."""
        return cls(user_id=None, role="system")

    def __str__(self) -> str:
        return f"{self.role}#{self.user_id}" if self.user_id is not None else self.role
