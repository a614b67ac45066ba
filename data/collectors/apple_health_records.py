"""`Record` elements -> observation rows: the hot path of the Apple Health import.

Expat calls `start` for every element of the file, millions of times, so the common case
(a known type in a known unit, a standard date, a source seen before) is a handful of dict
hits and one tuple. Everything unusual (new source, blood pressure, odd date, bad value,
unknown unit) falls through to `_careful`, which redoes the record with full checks and
says what was wrong, so odd records cost time only when they occur.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from data import catalog
from data.collectors.apple_health_tables import (
    BP_CODES,
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
_UNKNOWN = object()  # memo marker: a type the catalogue does not import


class _NewSource(Exception):
    """Sends a record of a source not yet registered down the careful path."""


# Distinct unknown type names tallied one by one; the rest share one entry.
_MAX_TYPES = 10_000
_MORE = "(other types)"
_CODE = itemgetter(0)
# Metric -> its HealthKit type, for metrics fed by exactly one type (rows of the others
# are counted per type on the careful path).
_SINGLE_TYPE = {m.code: m.healthkit_types[0] for m in catalog.all_metrics()
                if len(m.healthkit_types) == 1}

Attrs = dict[str, str]


class RecordCollector:
    """Turns Record attributes into rows and keeps the per-type and per-source tallies.

    Rows are not counted one by one: `count_rows` tallies them by metric after each
    chunk, a C loop instead of a dict update per record. Tallies of unknown types are
    capped (a hostile file could invent millions of type names).
    """

    def __init__(self, warn: Callable[[str], None]) -> None:
        self.rows: list[Row] = []
        self.unknown: defaultdict[str, int] = defaultdict(int)  # types the catalogue lacks
        self.skipped: defaultdict[str, int] = defaultdict(int)  # duplicate copies
        self.bad: defaultdict[str, int] = defaultdict(int)  # known type, unusable record
        self.by_code: Counter[str] = Counter()  # rows handed out, by metric
        self.by_type: defaultdict[str, int] = defaultdict(int)  # rows of shared metrics
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
        self._rebind: Callable[[list[Row]], None] = lambda rows: None  # set by make_start

    @property
    def records_done(self) -> int:
        """Record elements seen so far, understood or not."""
        return (self.by_code.total() + self.untyped + sum(self.unknown.values())
                + sum(self.skipped.values()) + sum(self.bad.values()))

    def count_rows(self, rows: list[Row]) -> None:
        """Tally rows once produced (the parse loop calls this per chunk)."""
        self.by_code.update(map(_CODE, rows))

    def drop_non_finite(self, start: int) -> None:
        """Remove rows from `start` on whose value is NaN or infinite (the caller found
        some in its per-chunk sum); each is counted and reported like any bad value."""
        kept = []
        for row in self.rows[start:]:
            if math.isfinite(row[4]):
                kept.append(row)
                continue
            typ = _SINGLE_TYPE.get(row[0], row[0])
            self.bad[typ] += 1
            self._warn(f"a {typ} record in the lines before this one has a value that is not "
                       f"a finite number ({row[4]}); it was skipped")
        self.rows[start:] = kept

    def take(self, size: int) -> list[Row]:
        """The first `size` rows; the buffer continues with the rest.

        The full buffer itself is handed out and only the few rows past `size` move to a
        new one: slicing off the front instead would touch every row of the batch again,
        long after they left the CPU cache.
        """
        batch = self.rows
        self.rows = batch[size:]
        del batch[size:]
        self._rebind(self.rows)
        return batch

    def make_start(
        self, others: dict[str, Callable[[Attrs], None]]
    ) -> Callable[[str, Attrs], None]:
        """The top-level StartElementHandler: Records inline, other elements via `others`.

        The closure remembers the last type/unit, date parts and source: consecutive
        records mostly share them, and a string comparison is far cheaper than slicing,
        hashing and looking up again. Every remembered value is re-checked against the
        record before use, and assigned only after its lookup succeeded.
        """
        append = self.rows.append

        def rebind(rows: list[Row]) -> None:
            nonlocal append
            append = rows.append

        self._rebind = rebind
        unknown = self.unknown
        types = self.types
        hours, clock_offsets = self.dates.hours, self.dates.clock_offsets
        settled = self._settled
        careful = self._careful
        never = "\0"  # a prefix no date has
        l_typ: str | None = never
        l_unit: str | None = never
        l_entry: Any = None
        # The local hour as a string range: `l_hour <= s < l_hour_end` means s starts
        # with l_hour (two str comparisons, cheaper than str.startswith's argument parsing).
        l_hour, l_hour_end, l_hour_ts = never, never, 0
        l_start, l_start_ts, l_start_off = never, 0, 0  # previous startDate
        l_end, l_end_ts = never, 0  # previous endDate (when it differed from the start)
        l_src = never

        def start(name: str, a: Attrs) -> None:
            nonlocal l_typ, l_unit, l_entry, l_hour, l_hour_end, l_hour_ts
            nonlocal l_start, l_start_ts, l_start_off, l_end, l_end_ts, l_src
            if name != "Record":
                if name in others:  # MetadataEntry, the commonest, is not
                    others[name](a)
                return
            try:
                typ = a["type"]
                unit = a.get("unit")
                if typ != l_typ or unit != l_unit:
                    units = types[typ]
                    entry = _UNKNOWN if units is None else units[unit]
                    l_typ, l_unit, l_entry = typ, unit, entry
                if l_entry is _UNKNOWN:
                    unknown[typ if typ in unknown or len(unknown) < _MAX_TYPES else _MORE] += 1
                    return
                code, parse = l_entry  # a special (3-item) entry raises here: careful path
                s = a["startDate"]
                if s != l_start:
                    # No length check needed: every clock_offsets key is 11 characters,
                    # so a hit means s has the 25 of "YYYY-MM-DD HH:MM:SS +HHMM".
                    if not l_hour <= s < l_hour_end:
                        text = s[:13]
                        hour = hours[text]
                        l_hour, l_hour_end, l_hour_ts = text, text + "\x7f", hour
                    shift, off = clock_offsets[s[14:]]
                    l_start, l_start_ts, l_start_off = s, l_hour_ts + shift, off
                st = l_start_ts
                e = a["endDate"]
                if e == s:
                    et = st
                elif e == l_end:
                    et = l_end_ts
                    if et < st:
                        raise ValueError(e)
                else:
                    if not l_hour <= e < l_hour_end:
                        text = e[:13]
                        hour = hours[text]
                        l_hour, l_hour_end, l_hour_ts = text, text + "\x7f", hour
                    et = l_hour_ts + clock_offsets[e[14:]][0]
                    l_end, l_end_ts = e, et
                    if et < st:
                        raise ValueError(e)
                v = parse(a["value"])
                src = a["sourceName"]
                if src != l_src:
                    if src not in settled:
                        raise _NewSource
                    l_src = src
                # Values that are NaN or infinite are rare enough to be caught per chunk
                # (`drop_non_finite`), not tested here on every record.
                # l_src, not src: rows of a source share one string object
                append((code, st, et, l_start_off, v, l_src))
            except Exception:  # any oddity takes the careful path, which explains itself
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
        units = self.types[typ]
        entry = None if units is None else units[a.get("unit")]
        if entry is not None and entry[0] in BP_CODES:
            self._careful(a)
        else:
            skipped = self.skipped
            skipped[typ if typ in skipped or len(skipped) < _MAX_TYPES else _MORE] += 1

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
            unknown = self.unknown
            unknown[typ if typ in unknown or len(unknown) < _MAX_TYPES else _MORE] += 1
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
        code, parse = entry[0], entry[1]
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
        if code in BP_CODES and self._duplicate((code, start, source, value)):
            self.skipped[typ] += 1
            return
        if len(entry) == 3 and code not in _SINGLE_TYPE:
            self.by_type[typ] += 1
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
        """HealthKit type -> (rows handed out so far, records not understood)."""
        result: dict[str, tuple[int, int]] = {}
        for typ in (*self.unknown, *self.bad, *self.skipped, *self.by_type):
            result[typ] = (self.by_type.get(typ, 0), self.unknown.get(typ, 0)
                           + self.bad.get(typ, 0))
        for code, n in self.by_code.items():
            typ = _SINGLE_TYPE.get(code)
            if typ is not None:
                result[typ] = (n, self.bad.get(typ, 0))
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
