"""Helpers shared by callbacks: time ranges, the patient's local clock, background jobs."""

from __future__ import annotations

import time
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from auth.principal import current_principal, repository
from auth.tokens import open_job, sign_job
from data.access import Principal
from data.db import make_engine
from data.repository import Repository

DAY = 86400
RANGE_SECONDS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY, "1y": 365 * DAY}


def window(range_key: str, now: int | None = None) -> tuple[int | None, int | None]:
    """UTC [start, end) of a named range ending now; (None, None) for everything."""
    now = now if now is not None else int(time.time())
    if range_key in RANGE_SECONDS:
        return now - RANGE_SECONDS[range_key], now + 60
    return None, None


def local_text_to_utc(text: str, zone: str) -> int:
    """A plotly axis value ('2025-03-01 12:34:56.789', the person's wall clock) as UTC seconds."""
    moment = datetime.fromisoformat(text.strip().replace(" ", "T")[:26])
    return int(moment.replace(tzinfo=ZoneInfo(zone)).timestamp())


# --- background jobs on a patient (recompute, report) ------------------------------------
# The foreground callback checks access in the web request and signs (principal, patient);
# the background callback (Celery or diskcache worker, no request) acts only on a valid
# token, through a repository of its own, and checks again.

@lru_cache(maxsize=4)
def worker_repository(url: str) -> Repository:
    """The repository a background worker uses (one per database URL and process)."""
    return Repository(make_engine(url))


def sign_change_job(secret: str, patient_id: int) -> str:
    """A job token for a change to the patient's data; read-only roles are refused here."""
    principal = current_principal()
    repository().authorize_change(principal, patient_id)
    return sign_job(secret, principal, patient_id)


def open_change_job(secret: str, url: str, token: str) -> tuple[Principal, int, Repository]:
    """The principal, patient and worker repository of a valid job token, checked again."""
    principal, patient_id = open_job(secret, token)
    repo = worker_repository(url)
    repo.authorize_change(principal, patient_id)
    return principal, patient_id, repo
