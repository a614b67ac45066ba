"""Who is asking. Every read of patient data in the repository takes a `Principal`.

Lives in `data` (not `auth`) so the repository can enforce access without importing the
web layer; `auth` builds principals from sessions and API keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["patient", "caregiver", "clinician", "admin", "system"]
# patient: their own data; caregiver: read-only, the patients who invited them (revocable);
# clinician: the patients on their care team; admin: users, roles, keys and audit, and a
# patient's data only during a break-glass session (read-only). "system" is no login role.
ROLES: tuple[str, ...] = ("patient", "caregiver", "clinician", "admin")


class AccessDenied(PermissionError):
    """The principal may not see (or change) this patient's data, or do this at all."""


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
