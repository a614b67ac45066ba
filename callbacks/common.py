"""Helpers shared by callbacks: time ranges and the patient's local clock."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

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


def age(birth_date, today=None) -> int | None:
    """Whole years since birth."""
    if birth_date is None:
        return None
    today = today or datetime.now().date()
    return today.year - birth_date.year - (
        (today.month, today.day) < (birth_date.month, birth_date.day)
    )
