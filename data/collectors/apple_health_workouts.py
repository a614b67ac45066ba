"""Workouts, their routes (GPX or inline Locations) and daily Activity summaries.

These are rare next to Records (hundreds against millions), so clarity wins over speed
here: every value goes through the careful date and unit helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import BinaryIO

from data import catalog
from data.collectors.apple_health_tables import DateTables, to_float
from data.collectors.apple_health_types import ActivitySummary, Workout
from data.collectors.apple_health_xml import UnsafeXML, chunks, new_parser, read_prolog

__all__ = ["WorkoutBuilder", "parse_gpx", "summary_from"]

Attrs = dict[str, str]
Point = tuple[int, float, float, float | None]

_DURATION_S = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "ms": 0.001,
               "d": 86400.0}
# Points kept per route: a day at one point a second is 86,400; a hostile GPX could hold
# far more, and a route is held in memory until its batch is handed out.
MAX_ROUTE_POINTS = 250_000
# Units any workout statistic may use, whether or not the catalogue imports its type
# (cycling and swimming distance, for instance): unit -> (canonical unit, converter).
_FAMILY: dict[str, tuple[str, Callable[[float], float]]] = {
    **{u: ("km", f) for u, f in catalog.get("distance").units.items()},
    "yd": ("km", lambda v: v * 0.0009144), "ft": ("km", lambda v: v * 0.0003048),
    **{u: ("kcal", f) for u, f in catalog.get("active_energy").units.items()},
}
_ENERGY = "HKQuantityTypeIdentifierActiveEnergyBurned"
_DISTANCE = "HKQuantityTypeIdentifierDistance"
_STAT_KEYS = ("sum", "average", "minimum", "maximum")
_SUMMARY_FIELDS = (
    ("activeEnergyBurned", "active_energy_kcal"),
    ("activeEnergyBurnedGoal", "active_energy_goal_kcal"),
    ("appleMoveTime", "move_time_min"),
    ("appleMoveMinutes", "move_time_min"),
    ("appleMoveTimeGoal", "move_time_goal_min"),
    ("appleMoveMinutesGoal", "move_time_goal_min"),
    ("appleExerciseTime", "exercise_min"),
    ("appleExerciseTimeGoal", "exercise_goal_min"),
    ("appleStandHours", "stand_hours"),
    ("appleStandHoursGoal", "stand_goal_hours"),
)


def _canonical(hk_type: str, value: float, unit: str | None) -> float:
    """`value` in the canonical unit of its type (or unit family); unchanged if unknown."""
    metric = catalog.for_healthkit(hk_type)
    if metric is not None and unit is not None:
        spelled = "fraction" if unit == "%" and "fraction" in metric.units else unit
        if spelled in metric.units:
            return catalog.convert(metric.code, value, spelled)
    if unit in _FAMILY:
        return _FAMILY[unit][1](value)
    return value


def _total(text: str | None, unit: str, canonical: str) -> float | None:
    """A legacy Workout total (totalDistance, totalEnergyBurned) in `canonical`, or None
    when its unit is not one we can convert (a wrong number is worse than none)."""
    value = _number(text)
    family = _FAMILY.get(unit)
    if value is None or family is None or family[0] != canonical:
        return None
    return family[1](value)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = to_float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class WorkoutBuilder:
    """Collects one `<Workout>` element's children; `finish` returns the Workout."""

    def __init__(
        self, a: Attrs, dates: DateTables, source: str, warn: Callable[[str], None],
        load_route: Callable[[str], list[Point]],
    ) -> None:
        self.attrs = a
        self.dates = dates
        self.source = source
        self.warn = warn
        self.load_route = load_route
        self.stats: dict[str, dict[str, float]] = {}
        self.events: list[tuple[str, int]] = []
        self.route: list[Point] = []

    def start(self, name: str, a: Attrs) -> None:
        """StartElementHandler while inside the Workout."""
        if name == "FileReference":  # read now, so a warning points at this line
            route, path = self.route, a.get("path", "")
            route.extend(self.load_route(path)[:MAX_ROUTE_POINTS - len(route)])
            return
        try:
            if name == "WorkoutStatistics":
                values = {k: _number(a.get(k)) for k in _STAT_KEYS}
                self.stats[a["type"]] = {
                    k: _canonical(a["type"], v, a.get("unit"))
                    for k, v in values.items() if v is not None
                }
            elif name == "WorkoutEvent":
                self.events.append((a["type"], self.dates.utc(a["date"])[0]))
            elif name == "Location" and len(self.route) < MAX_ROUTE_POINTS:
                self.route.append(self._location(a))
        except (KeyError, ValueError) as exc:
            self.warn(f"a {name} in a workout could not be read ({exc}); it was skipped")

    def _location(self, a: Attrs) -> Point:
        """Inline route point of iOS 12 and earlier exports."""
        ts = self.dates.utc(a["date"])[0]
        return ts, float(a["latitude"]), float(a["longitude"]), _number(a.get("altitude"))

    def finish(self) -> Workout | None:
        """The Workout, or None (with a warning) when its dates cannot be read."""
        a = self.attrs
        try:
            start, offset = self.dates.utc(a["startDate"])
            end = self.dates.utc(a["endDate"])[0]
        except (KeyError, ValueError) as exc:
            self.warn(f"a workout without readable dates was skipped ({exc})")
            return None
        duration = _number(a.get("duration"))
        if duration is not None:
            duration *= _DURATION_S.get(a.get("durationUnit", "min"), 60.0)
        elif end >= start:
            duration = float(end - start)
        # Statistics (iOS 16+) first, the legacy totals as the fallback.
        distance = next((s["sum"] for t, s in self.stats.items()
                         if t.startswith(_DISTANCE) and "sum" in s), None)
        if distance is None:
            distance = _total(a.get("totalDistance"), a.get("totalDistanceUnit", "km"), "km")
        energy = self.stats.get(_ENERGY, {}).get("sum")
        if energy is None:
            energy = _total(a.get("totalEnergyBurned"), a.get("totalEnergyBurnedUnit", "kcal"),
                            "kcal")
        return Workout(
            activity=a.get("workoutActivityType", ""), start_ts=start, end_ts=end,
            utc_offset_min=offset, source=self.source, duration_s=duration,
            distance_km=distance, energy_kcal=energy, stats=self.stats, events=self.events,
            route=self.route,
        )


def summary_from(a: Attrs, warn: Callable[[str], None]) -> ActivitySummary | None:
    """An ActivitySummary's rings in fixed units (energy in kcal, times in minutes)."""
    day = a.get("dateComponents", "")
    if len(day) != 10 or day[4] != "-" or day[7] != "-":
        warn(f"an ActivitySummary without a date ({day!r}) was skipped")
        return None
    unit = a.get("activeEnergyBurnedUnit", "kcal")
    values: dict[str, float] = {}
    for attr, key in _SUMMARY_FIELDS:
        value = _number(a.get(attr))
        if value is None:
            if attr in a:
                warn(f"ActivitySummary {day} {attr}={a[attr]!r} is not a number")
            continue
        if key.startswith("active_energy"):
            value = _canonical(_ENERGY, value, unit)
        values[key] = value
    return ActivitySummary(day=day, values=values)


def parse_gpx(stream: BinaryIO, name: str, dates: DateTables) -> tuple[list[Point], str | None]:
    """Track points of a GPX file as (utc ts, lat, lon, elevation), plus an error if any.

    Refuses entity declarations and external references like the main file (ExportError);
    a GPX that breaks part-way keeps the points before the break and reports why.
    """
    points: list[Point] = []
    current: dict[str, str] = {}
    field: list[str | None] = [None]
    text: list[str] = []

    def start(tag: str, a: Attrs) -> None:
        if tag == "trkpt":
            current.clear()
            current["lat"], current["lon"] = a.get("lat", ""), a.get("lon", "")
        elif tag in ("ele", "time") and current:
            field[0] = tag
            text.clear()

    def chars(data: str) -> None:
        if field[0] is not None:
            text.append(data)

    def end(tag: str) -> None:
        if tag == field[0]:
            current[tag] = "".join(text).strip()
            field[0] = None
        elif tag == "trkpt" and current:
            point = _point(current, dates)
            if point is not None:
                points.append(point)
                if len(points) >= MAX_ROUTE_POINTS:
                    raise _Enough
            current.clear()

    parser = new_parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        for chunk in chunks(stream, read_prolog(stream, "gpx", name)):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except UnsafeXML:
        raise
    except _Enough:
        return points, f"{name} has more than {MAX_ROUTE_POINTS:,} points; the rest were skipped"
    except Exception as exc:
        return points, f"{name} could not be read to the end ({exc})"
    return points, None


class _Enough(Exception):
    """Stops a GPX parse at MAX_ROUTE_POINTS."""


def _point(p: dict[str, str], dates: DateTables) -> Point | None:
    try:
        lat, lon = float(p["lat"]), float(p["lon"])
        ts = dates.gpx(p.get("time", ""))
    except (KeyError, ValueError):
        return None
    return ts, lat, lon, _number(p.get("ele"))
