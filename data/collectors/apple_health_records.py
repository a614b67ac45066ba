"""`Record` elements -> observation rows: the hot path of the Apple Health import.

Expat calls `start` for every element of the file, millions of times, so the common case
(a known type in a known unit, a standard date, a source seen before) is a handful of dict
hits and one tuple. Everything unusual (new source, blood pressure, odd date, bad value,
unknown unit) falls through to `_careful`, which redoes the record with full checks and
says what was wrong, so odd records cost time only when they occur.
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

from data.collectors.apple_health_tables import (
    DateTables,
    TypeTable,
    describe_device,
    parse_device,
    source_kind,
)
from data.collectors.apple_health_types import Row

__all__ = ["BP_WINDOW", "RecordCollector"]

# Blood pressure records appear twice (inside their Correlation and at top level), next to
# each other; this many recent readings are remembered to drop the second copy.
BP_WINDOW = 10_000
# A source whose first records carry no device string is re-checked this many times.
_DEVICE_RETRIES = 1_000
_UNKNOWN_SOURCE = "Unknown source"

Attrs = dict[str, str]


class RecordCollector:
    """Turns Record attributes into rows and keeps the per-type and per-source tallies."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self.rows: list[Row] = []
        self.seen: defaultdict[str, int] = defaultdict(int)  # every Record, by type
        self.skipped: defaultdict[str, int] = defaultdict(int)  # duplicate copies
        self.bad: defaultdict[str, int] = defaultdict(int)  # known type, unusable record
        self.untyped = 0
        self.kinds: dict[str, str] = {}  # source -> kind
        self.devices: dict[str, str] = {}  # source -> device description
        self._settled: set[str] = set()  # sources the hot path need not look at again
        self._retries: defaultdict[str, int] = defaultdict(int)
        self._bp: OrderedDict[tuple[str, int, str, float], None] = OrderedDict()
        self._warned_units: set[tuple[str, str | None]] = set()
        self.types = TypeTable()
        self.dates = DateTables()
        self._warn = warn

    @property
    def records_done(self) -> int:
        """Record elements seen so far, understood or not."""
        return sum(self.seen.values()) + self.untyped

    def known(self, hk_type: str) -> bool:
        """Whether the catalogue imports this HealthKit type at all."""
        return self.types[hk_type] is not None

    def make_start(self, others: dict[str, Callable[[Attrs], None]]) -> Callable[[str, Attrs], None]:
        """The top-level StartElementHandler: Records inline, other elements via `others`."""
        append = self.rows.append
        seen = self.seen
        types = self.types
        hours, clock, offsets = self.dates.hours, self.dates.clock, self.dates.offsets
        settled = self._settled
        careful = self._careful
        get_other = others.get

        def start(name: str, a: Attrs) -> None:
            if name != "Record":
                handler = get_other(name)
                if handler is not None:
                    handler(a)
                return
            try:
                typ = a["type"]
                seen[typ] += 1
                units = types[typ]
                if units is None:
                    return
                code, parse, special = units[a.get("unit")]  # type: ignore[misc]
                s = a["startDate"]
                off = offsets[s[20:]]
                st = hours[s[:13]] + clock[s[14:19]] - off * 60
                e = a["endDate"]
                et = st if e == s else hours[e[:13]] + clock[e[14:19]] - offsets[e[20:]] * 60
                v = parse(a["value"])
                src = a["sourceName"]
                if special or et < st or v - v or src not in settled:
                    careful(a)
                    return
                append((code, st, et, off, v, src))
            except Exception:
                careful(a)

        return start

    def nested(self, a: Attrs) -> None:
        """A Record inside a Correlation: Apple writes the same record at top level too.

        Only blood pressure is imported from correlations, de-duplicated against its top-level
        twin; other nested copies are counted as seen and skipped.
        """
        typ = a.get("type")
        if typ is None:
            self.untyped += 1
            return
        self.seen[typ] += 1
        units = self.types[typ]
        entry = None if units is None else units[a.get("unit")]
        if entry is not None and entry[2]:
            self._careful(a)
        else:
            self.skipped[typ] += 1

    # --- the careful path ------------------------------------------------------------------

    def _careful(self, a: Attrs) -> None:
        """One record with every check; counts it as unusable (with a warning) when it is."""
        typ = a.get("type")
        if typ is None:
            self.untyped += 1
            self._warn("a Record without a type was skipped")
            return
        units = self.types[typ]
        if units is None:
            return
        unit = a.get("unit")
        entry = units[unit]
        if entry is None:
            self.bad[typ] += 1
            if (typ, unit) not in self._warned_units and len(self._warned_units) < 1000:
                self._warned_units.add((typ, unit))
                self._warn(f"{typ} in unit {unit!r} cannot be converted; records of this "
                           "type in this unit were skipped")
            return
        code, parse, special = entry
        try:
            start, offset = self.dates.utc(a.get("startDate", ""))
            end, _ = self.dates.utc(a.get("endDate", ""))
        except ValueError as exc:
            self._reject(typ, f"has a date that cannot be read ({exc})")
            return
        if end < start:
            self._reject(typ, "ends before it starts")
            return
        text = a.get("value")
        if text is None:
            self._reject(typ, "has no value")
            return
        value = _value(parse, text)
        if value is None or not math.isfinite(value):
            self._reject(typ, f"has a value that cannot be used ({text[:40]!r})")
            return
        source = self._source(a, code)
        if special and self._duplicate((code, start, source, value)):
            self.skipped[typ] += 1
            return
        self.rows.append((code, start, end, offset, value, source))

    def _reject(self, typ: str, why: str) -> None:
        self.bad[typ] += 1
        self._warn(f"a {typ} record {why}; it was skipped")

    def _source(self, a: Attrs, code: str | None) -> str:
        """The record's source name, registered with its kind and device on first sight."""
        name = " ".join(a.get("sourceName", "").split()) or _UNKNOWN_SOURCE
        if name in self._settled:
            return name
        device = a.get("device")
        if name not in self.kinds:
            fields = parse_device(device)
            self.kinds[name] = source_kind(name, fields, code)
            self.devices[name] = describe_device(fields)
        elif device and not self.devices[name]:
            self.devices[name] = describe_device(parse_device(device))
        self._retries[name] += 1
        if (self.devices[name] or self._retries[name] > _DEVICE_RETRIES) and name == a.get(
            "sourceName"
        ):
            self._settled.add(name)
            self._retries.pop(name, None)
        return name

    def _duplicate(self, key: tuple[str, int, str, float]) -> bool:
        """Whether this blood pressure reading was produced moments ago (its twin)."""
        seen = self._bp
        if key in seen:
            seen.move_to_end(key)
            return True
        seen[key] = None
        if len(seen) > BP_WINDOW:
            seen.popitem(last=False)
        return False

    def source(self, a: Attrs) -> str:
        """Source name for workouts (registered like a record's, without a metric hint)."""
        return self._source(a, None)

    def counts(self) -> dict[str, tuple[int, int]]:
        """HealthKit type -> (rows produced, records not understood)."""
        result = {}
        for typ, n in self.seen.items():
            usable = n - self.skipped.get(typ, 0)
            if self.types[typ] is None:
                result[typ] = (0, usable)
            else:
                bad = self.bad.get(typ, 0)
                result[typ] = (usable - bad, bad)
        return result


def _value(parse: Callable[[str], float], text: Any) -> float | None:
    """The converted value, trying a decimal comma before giving up."""
    try:
        return parse(text)
    except (ValueError, KeyError, TypeError):
        pass
    if "," in text:
        try:
            return parse(text.replace(",", "."))
        except (ValueError, KeyError, TypeError):
            pass
    return None
