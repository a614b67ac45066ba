"""Declarative query specs: what a chart asks for, with a stable cache key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Resolution = Literal["raw", "hour", "day"]
RequestedResolution = Literal["auto", "raw", "hour", "day"]
RESOLUTIONS: tuple[str, ...] = ("raw", "hour", "day")
DEFAULT_MAX_POINTS = 2000


@dataclass(frozen=True)
class SeriesQuery:
    """A metric of one patient over [start_ts, end_ts) (UTC epoch seconds; None = open).

    `max_points` bounds the points returned; None returns every point (exports).
    """

    patient_id: int
    metric: str
    start_ts: int | None = None
    end_ts: int | None = None
    max_points: int | None = DEFAULT_MAX_POINTS
    resolution: RequestedResolution = "auto"

    def __post_init__(self) -> None:
        if self.max_points is not None and self.max_points < 3:
            raise ValueError(f"max_points must be at least 3, got {self.max_points}")
        if self.resolution not in ("auto", *RESOLUTIONS):
            raise ValueError(f"resolution must be auto, raw, hour or day, not {self.resolution!r}")
        if None not in (self.start_ts, self.end_ts) and self.end_ts <= self.start_ts:
            raise ValueError("end must be after start")

    def cache_key(self, data_version: int) -> str:
        """Key of this query's result for a given version of the patient's data."""
        return (
            f"series:{self.patient_id}:v{data_version}:{self.metric}:{self.start_ts}:"
            f"{self.end_ts}:{self.max_points}:{self.resolution}"
        )
