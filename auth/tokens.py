"""Signed, short-lived tokens that carry a principal into background jobs.

A background callback runs in a worker without the web request, so flask-login cannot
tell who asked; the foreground callback signs (principal, patient) and the worker checks
the signature with the shared secret before touching data.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from data.access import Principal

SALT = "healthdash.job"
MAX_AGE_S = 600


def sign_job(secret: str, principal: Principal, patient_id: int) -> str:
    """A token naming who asked for a job on which patient."""
    data = [principal.user_id, principal.role, principal.patient_id, patient_id]
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(data)


def open_job(secret: str, token: str) -> tuple[Principal, int]:
    """The principal and patient of a valid token; PermissionError otherwise."""
    try:
        user_id, role, own_patient, patient_id = URLSafeTimedSerializer(
            secret, salt=SALT
        ).loads(token, max_age=MAX_AGE_S)
    except (BadSignature, ValueError, TypeError) as exc:
        raise PermissionError("invalid or expired job token") from exc
    return Principal(user_id=user_id, role=role, patient_id=own_patient), int(patient_id)
