"""Lookup tables that keep per-record work of the Apple Health parser to a few dict hits.

A multi-GB export holds millions of records; `strptime` or a catalogue lookup per record
would cost more than expat itself. Dates are split into slices whose values are cached
(day, hour:minute, second, offset: each table stays small and bounded), and every
(HealthKit type, unit) pair is resolved against the catalogue once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from data import catalog

__all__ = [
    "BP_CODES", "DateTables", "Entry", "TypeTable", "describe_device", "parse_date_slow",
    "parse_device", "source_kind", "to_float",
]

_EPOCH = date(1970, 1, 1).toordinal()
_HOUR = re.compile(r"\d{4}-\d\d-\d\d[ T]([01]\d|2[0-3])")
_MMSS = re.compile(r"[0-5]\d:([0-5]\d|60)")
_OFFSET = re.compile(r"([+-])(\d\d)(\d\d)")
# Bounded caches: an hour table this big is 5.7 years (about 7 MB); clearing keeps
# memory flat on longer exports at the price of refilling.
_MAX_HOURS = 50_000
# UTC offsets in the wild run from -12:00 to +14:00; 16 h is the repository's limit.
_MAX_OFFSET_MIN = 16 * 60


class _Hours(dict[str, int]):
    """'YYYY-MM-DD HH' -> epoch seconds of that local hour (as if UTC)."""

    __slots__ = ()

    def __missing__(self, key: str) -> int:
        if not _HOUR.fullmatch(key):
            raise ValueError(f"not a date and hour: {key!r}")
        day = date(int(key[:4]), int(key[5:7]), int(key[8:10])).toordinal() - _EPOCH
        value = day * 86400 + int(key[11:13]) * 3600
        if len(self) >= _MAX_HOURS:
            self.clear()
        self[key] = value
        return value


class _Clock(dict[str, int]):
    """'MM:SS' -> seconds into the hour (at most 3,660 keys: leap seconds too)."""

    __slots__ = ()

    def __missing__(self, key: str) -> int:
        if not _MMSS.fullmatch(key):
            raise ValueError(f"not minutes and seconds: {key!r}")
        value = int(key[:2]) * 60 + int(key[3:])
        self[key] = value
        return value


class _Offsets(dict[str, int]):
    """'+0200' -> offset in minutes, refusing offsets no place on Earth uses."""

    __slots__ = ()

    def __missing__(self, key: str) -> int:
        found = _OFFSET.fullmatch(key)
        if not found or int(found.group(3)) >= 60:
            raise ValueError(f"not a UTC offset: {key!r}")
        value = int(found.group(2)) * 60 + int(found.group(3))
        value = -value if found.group(1) == "-" else value
        if abs(value) > _MAX_OFFSET_MIN:
            raise ValueError(f"impossible UTC offset: {key!r}")
        if len(self) >= 1000:
            self.clear()
        self[key] = value
        return value


class _ClockOffsets(dict[str, tuple[int, int]]):
    """'MM:SS +0100' -> (seconds into the hour minus the offset, offset in minutes).

    One slice and one lookup give both the time within the hour and the offset, which is
    what the hot path needs from the end of a date (3,660 keys per offset in the file).
    """

    __slots__ = ("clock", "offsets")

    def __init__(self, clock: _Clock, offsets: _Offsets) -> None:
        super().__init__()
        self.clock, self.offsets = clock, offsets

    def __missing__(self, key: str) -> tuple[int, int]:
        if len(key) != 11 or key[5] != " ":
            raise ValueError(f"not minutes, seconds and offset: {key!r}")
        off = self.offsets[key[6:]]
        value = (self.clock[key[:5]] - off * 60, off)
        if len(self) >= _MAX_HOURS:
            self.clear()
        self[key] = value
        return value


_CLOCK = {f"{m:02d}:{s:02d}": m * 60 + s for m in range(60) for s in range(61)}


class DateTables:
    """Fresh caches for one parse; `utc("2024-01-01 08:00:00 +0100")` is the slow form.

    The hot path inlines the same arithmetic, `hours[s[:13]] + clock_offsets[s[14:]][0]`
    (two slices and two dict hits instead of `strptime`, and usually only the second:
    consecutive records share the hour). The tables validate what they cache, so a
    malformed date raises instead of being misread.
    """

    def __init__(self) -> None:
        self.hours = _Hours()
        # Filled up front: 3,660 entries cost less than as many misses on a small file.
        self.clock = _Clock(_CLOCK)
        self.offsets = _Offsets()
        self.clock_offsets = _ClockOffsets(self.clock, self.offsets)

    def utc(self, text: str) -> tuple[int, int]:
        """(UTC epoch seconds, offset minutes) of an export date, any accepted format."""
        if len(text) == 25 and text[10] == " " and text[16] == ":" and text[19] == " ":
            off = self.offsets[text[20:]]
            return self.hours[text[:13]] + self.clock[text[14:19]] - off * 60, off
        return parse_date_slow(text)

    def gpx(self, text: str) -> int:
        """UTC epoch seconds of a GPX time ('2019-06-11T22:00:42Z' or any ISO form)."""
        if len(text) == 20 and text[10] == "T" and text[19] == "Z" and text[16] == ":":
            return self.hours[text[:13]] + self.clock[text[14:19]]
        return parse_date_slow(text)[0]


def parse_date_slow(text: str) -> tuple[int, int]:
    """Dates in the rarer shapes: ISO 'T', fractions, 'Z', and iOS 8's '20150616071820-0700'."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{14}[+-]\d{4}", text):
            moment = datetime.strptime(text, "%Y%m%d%H%M%S%z")
        else:
            moment = datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-")
                                            .replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"date without a UTC offset: {text!r}")
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if abs(minutes) > _MAX_OFFSET_MIN:
        raise ValueError(f"impossible UTC offset: {text!r}")
    return int(moment.astimezone(UTC).timestamp()), minutes


def to_float(text: str) -> float:
    """A number that may use a decimal comma (secondary fields follow the phone's locale)."""
    try:
        return float(text)
    except ValueError:
        return float(text.replace(",", "."))


# --- HealthKit type -> metric and value parser -------------------------------------------

# (metric code, text -> canonical value[, True when it needs the careful path])
Entry = tuple[str, Callable[[str], float]] | tuple[str, Callable[[str], float], bool]
BP_CODES = frozenset({"bp_systolic", "bp_diastolic"})
_SLEEP = {name: float(stage) for name, stage in catalog.SLEEP_STAGE_NAMES.items()}


def _is_identity(convert: Callable[[float], float]) -> bool:
    return all(convert(x) == x for x in (0.0, 1.0, 123.456, -7.25))


def _value_parser(code: str, unit: str | None) -> Callable[[str], float] | None:
    """The text -> canonical value function for one (metric, unit) pair, or None."""
    metric = catalog.get(code)
    if metric.kind == "category":
        # Category records carry an enum name, not a number; only sleep is mapped.
        return _SLEEP.__getitem__ if code == "sleep_stage" else None
    if unit is None:
        return None
    # HealthKit stores percentages as fractions (0.97) but labels them "%"; the catalogue's
    # "%" is a real percent, so HealthKit's must be read as "fraction".
    if unit == "%" and "fraction" in metric.units:
        unit = "fraction"
    convert = metric.units.get(unit)
    if convert is None:
        return None
    if _is_identity(convert):
        return float

    def parse(text: str, _convert: Callable[[float], float] = convert) -> float:
        return _convert(float(text))

    return parse


class _Units(dict[str | None, Entry | None]):
    """unit -> Entry for one metric; None marks a unit the catalogue cannot convert."""

    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def __missing__(self, unit: str | None) -> Entry | None:
        parser = _value_parser(self.code, unit)
        # Special entries take the careful path: blood pressure to drop its Correlation
        # twin, and metrics fed by several HealthKit types to count rows per type.
        special = self.code in BP_CODES or len(catalog.get(self.code).healthkit_types) > 1
        entry: Entry | None = None
        if parser is not None:
            # A special entry has a third item, so the hot path's two-name unpacking fails
            # and sends it to the careful path without a test on every record.
            entry = (self.code, parser, True) if special else (self.code, parser)
        if len(self) < 100:  # units are few; a file inventing thousands gets no cache
            self[unit] = entry
        return entry


class TypeTable(dict[str, _Units | None]):
    """HealthKit type -> its unit table, or None for types the catalogue does not import."""

    __slots__ = ()

    def __missing__(self, hk_type: str) -> _Units | None:
        metric = catalog.for_healthkit(hk_type)
        units = None if metric is None else _Units(metric.code)
        if len(self) < 10_000:
            self[hk_type] = units
        return units


# --- Sources -----------------------------------------------------------------------------

_FIELD_SPLIT = re.compile(r", (?=\w+:)")


def _words(*words: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


# Whole words in a source's name (lower case) -> kind, checked in order; the device model,
# when HealthKit recorded one, wins over these.
_NAME_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bp_cuff", _words("omron", "qardioarm", "bpm connect", "blood pressure", "blutdruck",
                       "ihealth", "bp monitor")),
    ("scale", _words("scale", "renpho", "eufy", "body+", "body cardio", "body comp", "aria",
                     "fitdays", "arboleaf", "yunmai", "qardiobase", "waage")),
    ("cgm", _words("dexcom", "libre", "librelink", "freestyle", "eversense", "guardian",
                   "xdrip", "cgm")),
    ("watch", _words("watch", "garmin", "fitbit", "oura", "whoop", "polar", "suunto",
                     "coros", "amazfit", "mi band")),
    ("phone", _words("iphone")),
)
_METRIC_KINDS = {
    "body_mass": "scale", "body_fat": "scale", "bmi": "scale",
    "bp_systolic": "bp_cuff", "bp_diastolic": "bp_cuff",
}


def parse_device(text: str | None) -> dict[str, str]:
    """Fields of HealthKit's device dump: `<<HKDevice: 0x…>, name:…, model:…, hardware:…>`."""
    if not text:
        return {}
    body = text.strip()
    if body.startswith("<<"):
        body = body[body.find(">") + 1:].lstrip(", ")
    body = body.removesuffix(">")
    fields = {}
    for part in _FIELD_SPLIT.split(body):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def describe_device(fields: dict[str, str]) -> str:
    """'Apple Watch by Apple Inc. (model Watch, hardware Watch6,7)', or '' if unknown."""
    name = fields.get("name") or fields.get("model") or ""
    if not name:
        return ""
    maker = fields.get("manufacturer")
    details = [f"{key} {fields[key]}" for key in ("model", "hardware")
               if fields.get(key) and fields[key] != name]
    text = name + (f" by {maker}" if maker else "")
    return text + (f" ({', '.join(details)})" if details else "")


def source_kind(name: str, fields: dict[str, str], metric: str | None) -> str:
    """watch, phone, scale, bp_cuff, cgm, app or other: the device first, then names.

    The kind sets a new source's de-duplication priority (Watch above iPhone), so Apple's
    own hardware strings are trusted before any guess from the app's name.
    """
    model = (fields.get("model", "") + " " + fields.get("hardware", "")).lower()
    if "watch" in model:
        return "watch"
    if "iphone" in model:
        return "phone"
    text = (name + " " + fields.get("name", "") + " " + fields.get("manufacturer", "")).lower()
    for kind, words in _NAME_KINDS:
        if words.search(text):
            return kind
    if metric in _METRIC_KINDS:
        return _METRIC_KINDS[metric]
    return "other" if fields else "app"
