"""The values the Apple Health parser hands out: batches, workouts, the import report.

Kept apart from the parser so the import job, the API and tests can use the types
without pulling in the parsing machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

__all__ = [
    "ActivitySummary", "Batch", "ExportError", "ParseDamage", "Report", "Row", "RowColumns",
    "TypeCount", "Workout",
]

# (metric, start_ts, end_ts, utc_offset_min, value, source name): the repository's row.
Row = tuple[str, int, int, int, float, str]
_FIELDS = tuple(itemgetter(i) for i in range(6))


class _Codes(dict):
    """Name -> small integer, numbered in order of first sight."""

    def __missing__(self, name: str) -> int:
        self[name] = code = len(self)
        return code


@dataclass(frozen=True)
class RowColumns:
    """Rows as columns: what crosses from the parser process to the writer.

    A list of 50,000 row tuples costs the writer more to unpickle, and to turn into
    columns again, than storing them; numpy columns cross as a few flat buffers. Metric
    and source are small integer codes into `metrics` and `sources`.
    """

    metrics: tuple[str, ...]
    metric: np.ndarray  # int16 codes into `metrics`
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    offset: np.ndarray  # int64, minutes
    value: np.ndarray  # float64
    sources: tuple[str, ...]
    source: np.ndarray  # int32 codes into `sources`

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def from_rows(cls, rows: list[Row]) -> RowColumns:
        """Columns of well-formed rows (the parser's; TypeError/ValueError otherwise)."""
        n = len(rows)
        metric_codes, source_codes = _Codes(), _Codes()
        m, st, en, off, val, src = _FIELDS
        metric = np.fromiter(map(metric_codes.__getitem__, map(m, rows)), np.int16, n)
        source = np.fromiter(map(source_codes.__getitem__, map(src, rows)), np.int32, n)
        return cls(
            tuple(metric_codes), metric,
            np.fromiter(map(st, rows), np.int64, n), np.fromiter(map(en, rows), np.int64, n),
            np.fromiter(map(off, rows), np.int64, n), np.fromiter(map(val, rows), np.float64, n),
            tuple(source_codes), source,
        )

    def row(self, i: int) -> Row:
        """Row `i` as a tuple (for messages)."""
        return (self.metrics[self.metric[i]], int(self.start[i]), int(self.end[i]),
                int(self.offset[i]), float(self.value[i]), self.sources[self.source[i]])

    def rows(self) -> list[Row]:
        """All rows as tuples."""
        metric = [self.metrics[c] for c in self.metric.tolist()]
        source = [self.sources[c] for c in self.source.tolist()]
        return list(zip(metric, self.start.tolist(), self.end.tolist(), self.offset.tolist(),
                        self.value.tolist(), source, strict=True))


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

    rows: list[Row] | RowColumns
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
