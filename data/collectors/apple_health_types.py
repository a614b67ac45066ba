"""The values the Apple Health parser hands out: batches, workouts, the import report.

Kept apart from the parser so the import job, the API and tests can use the types
without pulling in the parsing machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ActivitySummary", "Batch", "ExportError", "ParseDamage", "Report", "Row", "TypeCount",
    "Workout",
]

# (metric, start_ts, end_ts, utc_offset_min, value, source name): the repository's row.
Row = tuple[str, int, int, int, float, str]


class ExportError(ValueError):
    """A file that cannot be imported at all (not an export, unsafe, too big).

    The message says what and where, in words a person uploading the file understands;
    nothing of such a file is imported.
    """


@dataclass
class ParseDamage:
    """The file broke part-way; everything before `line` was yielded."""

    line: int
    message: str


@dataclass
class Workout:
    """One workout with its totals, events and route, in canonical units.

    `stats` maps a WorkoutStatistics type to its sum/average/minimum/maximum, converted
    to the catalogue's canonical unit where the type or unit is known (raw otherwise).
    """

    activity: str
    start_ts: int
    end_ts: int
    utc_offset_min: int
    source: str
    duration_s: float | None = None
    distance_km: float | None = None
    energy_kcal: float | None = None
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    events: list[tuple[str, int]] = field(default_factory=list)
    route: list[tuple[int, float, float, float | None]] = field(default_factory=list)


@dataclass
class ActivitySummary:
    """One day of Activity rings; `day` is the local date the rings belong to."""

    day: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class Batch:
    """What one step of the stream produced, plus progress for the import job."""

    rows: list[Row]
    source_kinds: dict[str, str]
    workouts: list[Workout]
    summaries: list[ActivitySummary]
    bytes_done: int
    records_done: int
    line: int


@dataclass
class TypeCount:
    """Per HealthKit type: rows produced, and records that could not be used."""

    parsed: int = 0
    not_understood: int = 0


@dataclass
class Report:
    """What the import found, filled in while `parse` runs (final once it returns)."""

    types: dict[str, TypeCount] = field(default_factory=dict)
    first_ts: int | None = None
    last_ts: int | None = None
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    export_version: int | None = None
    locale: str | None = None
    damage: ParseDamage | None = None
