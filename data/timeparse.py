"""Instants typed by people: ISO dates and datetimes, naive ones in the patient's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def parse_instant(text: str, zone: str) -> int:
    """UTC epoch seconds of an ISO date or datetime; a naive value is local to `zone`.

    Raises ValueError naming the text when it is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a date or time (use ISO 8601, e.g. 2025-03-01 or "
            "2025-03-01T08:00:00+01:00)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return int(moment.timestamp())
