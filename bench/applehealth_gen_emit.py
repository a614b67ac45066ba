"""Record formatting for the Apple Health generator: sources, devices and `<Record>` text.

Plain f-strings over cached attribute prefixes, because building elements through an XML
library costs several times the 6.7 µs a record may take at 150k records/s. Every dynamic
attribute value goes through `esc` once, when its prefix is cached.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from operator import itemgetter

from bench.applehealth_gen_clock import Clock
from bench.applehealth_gen_truth import Tally
from bench.applehealth_gen_xml import esc

HR = "HKQuantityTypeIdentifierHeartRate"
# Every source name has a typographic apostrophe, which would make every record a UCS-2
# string and its UTF-8 encoding cost ~1 µs (more than formatting it). Records are built with
# a control character in its place, never otherwise written, and swapped back as bytes.
APOSTROPHE = "’"
_STAND_IN = "\x01"
_STAND_IN_BYTE = _STAND_IN.encode()
_APOSTROPHE_UTF8 = APOSTROPHE.encode()
# End of a heart-rate record after its value, by motion context (0 still, 1 moving, 2 sport).
_HR_TAILS = tuple(
    f'">\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="{m}"/>\n </Record>\n'
    for m in range(3)
)
MMOL = "mmol<180.1558800000541>/L"
MG_PER_MMOL = 18.01558800000541  # the molar mass in the unit, divided by 10 (g/mol -> mg/dL)
LB = 0.45359237
MILE = 1.609344
KJ_PER_KCAL = 4.184


@dataclass(frozen=True)
class Source:
    """A writer of samples: app or device name, software versions over time, device model."""

    name: str
    versions: tuple[str, ...]
    device: str | None  # `name:…, manufacturer:…` part of HKDevice, without the address
    software_in_device: bool = True

    def attrs(self, day_index: int, address: int) -> str:
        """`sourceName=… sourceVersion=… device=…` as written on day `day_index`."""
        version = self.versions[min(day_index // 90, len(self.versions) - 1)]
        text = f'sourceName="{esc(self.name)}" sourceVersion="{esc(version)}"'
        if self.device is not None:
            software = f", software:{version}" if self.software_in_device else ""
            raw = f"<<HKDevice: 0x{address:x}>, {self.device}{software}>"
            text += f' device="{esc(raw)}"'
        return text


WATCH = Source(
    "Anna’s Apple Watch",
    ("10.1", "10.2", "10.3", "10.4", "10.5", "10.6", "11.0", "11.1", "11.2", "11.3", "11.4"),
    "name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,7",
)
PHONE = Source(
    "Anna’s iPhone",
    ("17.1.2", "17.2.1", "17.3", "17.4.1", "17.5", "17.6.1", "18.0", "18.1", "18.2", "18.3"),
    "name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone15,2",
)
SCALE = Source(
    "Health Mate",
    ("6.4.0", "6.5.1", "6.6.0", "6.7.2"),
    "name:Body+, manufacturer:Withings, model:WBS05",
    software_in_device=False,
)
CUFF = Source(
    "OMRON connect",
    ("7.12.0", "7.13.1", "7.14.0"),
    "name:BP7450, manufacturer:OMRON HEALTHCARE Co., Ltd., model:HEM-7361T",
    software_in_device=False,
)
METER = Source("OneTouch Reveal", ("5.9.1", "5.10.0", "5.11.2"), None)
HEALTH_APP = Source("Health", ("17.2.1", "17.4.1", "18.0"), None)
# iOS 16 exports were seen with a vertical tab (illegal in XML 1.0) inside a source name.
ODD_WATCH = Source("Anna’s Apple\x0bWatch", WATCH.versions, WATCH.device)


class Emitter:
    """Collects one day's elements as `(start epoch, text)` and counts them in the tally."""

    def __init__(self, rng: random.Random, clock: Clock, tally: Tally) -> None:
        self.rng = rng
        self.clock = clock
        self.stamp = clock.stamp
        self.tally = tally
        self.events: list[tuple[int, str]] = []
        self._source_attrs: dict[Source, str] = {}
        self._prefixes: dict[tuple[str, Source, str | None, str], str] = {}
        self.day_index = 0

    def new_day(self, day_index: int) -> None:
        """Fresh device addresses and versions: real exports show both changing over time."""
        self.day_index = day_index
        self._source_attrs.clear()
        self._prefixes.clear()

    def src(self, source: Source) -> str:
        """Attributes of `source` for today, recording it as a source of the file."""
        text = self._source_attrs.get(source)
        if text is None:
            address = 0x280000000 | self.rng.getrandbits(32)
            text = source.attrs(self.day_index, address).replace(APOSTROPHE, _STAND_IN)
            self._source_attrs[source] = text
            self.tally.truth.sources.add(source.name)
        return text

    def prefix(self, rtype: str, source: Source, unit: str | None, indent: str = " ") -> str:
        """`<Record type=… sourceName=… … unit=… creationDate="`, cached for the day."""
        key = (rtype, source, unit, indent)
        text = self._prefixes.get(key)
        if text is None:
            unit_attr = f' unit="{esc(unit)}"' if unit is not None else ""
            text = f'{indent}<Record type="{rtype}" {self.src(source)}{unit_attr} creationDate="'
            self._prefixes[key] = text
        return text

    def record(
        self,
        rtype: str,
        source: Source,
        unit: str | None,
        start: int,
        end: int,
        value: str,
        lag: int = 0,
        children: str = "",
    ) -> None:
        """One top-level `Record`; `children` are pre-formatted lines (metadata, HRV list)."""
        self.emit(self.prefix(rtype, source, unit), rtype, start, end, value, lag, children)

    def dates(self, start: int, end: int, lag: int) -> str:
        """`creationDate`, `startDate` and `endDate` values, joined: shared by the records a
        device writes for the same interval (steps and distance), formatted once."""
        stamp = self.stamp
        begin = stamp(start)
        finish = begin if end == start else stamp(end)
        return f'{stamp(end + lag)}" startDate="{begin}" endDate="{finish}'

    def emit(
        self,
        prefix: str,
        rtype: str,
        start: int,
        end: int,
        value: str,
        lag: int = 0,
        children: str = "",
    ) -> None:
        """`record` with the prefix already looked up, for the loops writing thousands a day."""
        self.emit_dated(prefix, rtype, start, self.dates(start, end, lag), value, children)

    def emit_dated(
        self, prefix: str, rtype: str, start: int, dates: str, value: str, children: str = ""
    ) -> None:
        """`emit` with the dates already formatted by `dates`."""
        tail = f">\n{children} </Record>\n" if children else "/>\n"
        self.events.append((start, f'{prefix}{dates}" value="{value}"{tail}'))
        self.tally.by_type[rtype] += 1

    def nested_record(
        self, rtype: str, source: Source, unit: str, start: int, value: str, lag: int
    ) -> str:
        """A `Record` inside a `Correlation` (two-space indent); counted as nested only."""
        begin = self.stamp(start)
        self.tally.nested += 1
        return (
            f'{self.prefix(rtype, source, unit, "  ")}{self.stamp(start + lag)}" '
            f'startDate="{begin}" endDate="{begin}" value="{value}"/>\n'
        )

    def heart_rates(self, samples: list[tuple[int, int, int]]) -> None:
        """Instantaneous heart rates `(t, bpm, motion context)`: the bulk of every export."""
        if not samples:
            return
        stamp = self.stamp
        prefix = self.prefix(HR, WATCH, "count/min")
        rnd = self.rng.random
        append = self.events.append
        for t, bpm, motion in samples:
            at = stamp(t)
            created = stamp(t + 5 + int(rnd() * 300))
            dates = f'{created}" startDate="{at}" endDate="{at}" value="'
            append((t, f"{prefix}{dates}{bpm}{_HR_TAILS[motion]}"))
        self.tally.by_type[HR] += len(samples)

    def zone_entry(self, t: int, indent: str = "  ") -> str:
        """`HKTimeZone` metadata line with the zone in force at `t`."""
        return f'{indent}<MetadataEntry key="HKTimeZone" value="{self.clock.zone(t)}"/>\n'

    def flush(self) -> bytes:
        """The day's elements in chronological order, UTF-8 encoded; clears the buffer."""
        self.events.sort(key=itemgetter(0))
        text = "".join([text for _, text in self.events])
        self.events.clear()
        return text.encode().replace(_STAND_IN_BYTE, _APOSTROPHE_UTF8)
