"""Ground truth of a generated Apple Health export, accumulated while it is written.

The truth is computed from the values exactly as they are written (the rounded strings,
converted back), never by re-parsing the file, so that a test comparing an importer with
it compares two independent computations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Truth:
    """What an importer must find in the generated export.

    Daily buckets use the person's local date with the offset in force at that minute.
    `daily_*` follow Apple's de-duplication, minute by minute: each interval sample's value
    is split evenly over the minutes it touches (`floor(start/60)` up to `ceil(end/60)`,
    at least one); in a minute touched by any Apple Watch sample of that type only the
    watch's share counts, otherwise the iPhone's. `daily_distance_km` is
    `DistanceWalkingRunning` only (cycling distance is a separate type).
    `sleep_*` are keyed by the local date on which the night ends (the wake-up); Awake
    never counts as asleep, InBed never counts as asleep.
    """

    records_by_type: dict[str, int] = field(default_factory=dict)
    daily_steps: dict[str, float] = field(default_factory=dict)
    daily_distance_km: dict[str, float] = field(default_factory=dict)
    daily_active_energy_kcal: dict[str, float] = field(default_factory=dict)
    bp_readings: list[tuple[int, float, float]] = field(default_factory=list)
    body_mass_kg: list[tuple[int, float]] = field(default_factory=list)
    glucose_mg_dl: list[tuple[int, float]] = field(default_factory=list)
    spo2_percent: list[tuple[int, float]] = field(default_factory=list)
    sleep_asleep_minutes: dict[str, float] = field(default_factory=dict)
    sleep_in_bed_minutes: dict[str, float] = field(default_factory=dict)
    heart_rate_count: int = 0
    workouts: int = 0
    activity_summaries: int = 0
    offsets_seen: set[int] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    total_records: int = 0


class MinuteLedger:
    """Per-minute shares of one interval metric from the watch and from the phone.

    Holds one waking day at a time in flat lists (a dict per minute was the slowest part of
    the generator); `settle` applies the watch-first rule and moves it into daily totals.
    """

    def __init__(self) -> None:
        self.base = 0
        self.watch: list[float] = []
        self.phone: list[float] = []
        self.covered = bytearray()
        self.daily: dict[str, float] = defaultdict(float)

    def open(self, first_minute: int, minutes: int) -> None:
        """Start a day whose samples all lie in `minutes` minutes from `first_minute`."""
        self.base = first_minute
        self.watch = [0.0] * minutes
        self.phone = [0.0] * minutes
        self.covered = bytearray(minutes)

    def add(self, is_watch: bool, start: int, end: int, value: float) -> None:
        """Spread `value` evenly over the minutes the sample [start, end] touches."""
        first = start // 60
        count = max(1, -(-end // 60) - first)
        share = value / count
        first -= self.base
        last = first + count
        shares = self.watch if is_watch else self.phone
        shares[first:last] = [value + share for value in shares[first:last]]
        if is_watch:
            self.covered[first:last] = b"\x01" * count

    def settle(self, pieces: list[tuple[int, int, str]]) -> None:
        """Add the day to the daily totals; `pieces` map minute ranges to local dates."""
        merged = [
            w if c else p for w, p, c in zip(self.watch, self.phone, self.covered, strict=True)
        ]
        for first, end, day in pieces:
            lo, hi = max(first - self.base, 0), min(end - self.base, len(merged))
            if hi > lo:
                self.daily[day] += sum(merged[lo:hi])

    def result(self) -> dict[str, float]:
        """Daily totals, rounded to hide float noise below what any importer can see."""
        return {day: round(value, 6) for day, value in sorted(self.daily.items())}


@dataclass
class Tally:
    """Mutable counters shared by the writers while the export is produced."""

    by_type: Counter[str] = field(default_factory=Counter)
    nested: int = 0
    steps: MinuteLedger = field(default_factory=MinuteLedger)
    distance: MinuteLedger = field(default_factory=MinuteLedger)
    energy: MinuteLedger = field(default_factory=MinuteLedger)
    truth: Truth = field(default_factory=Truth)

    def finish(self, offsets_seen: set[int]) -> Truth:
        """Freeze the counters into the `Truth` handed to the caller."""
        truth = self.truth
        truth.records_by_type = dict(sorted(self.by_type.items()))
        truth.total_records = sum(self.by_type.values()) + self.nested
        truth.heart_rate_count = self.by_type.get("HKQuantityTypeIdentifierHeartRate", 0)
        truth.daily_steps = self.steps.result()
        truth.daily_distance_km = self.distance.result()
        truth.daily_active_energy_kcal = self.energy.result()
        truth.sleep_asleep_minutes = dict(sorted(truth.sleep_asleep_minutes.items()))
        truth.sleep_in_bed_minutes = dict(sorted(truth.sleep_in_bed_minutes.items()))
        truth.offsets_seen = set(offsets_seen)
        return truth
