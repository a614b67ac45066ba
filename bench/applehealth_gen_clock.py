"""Local time for the Apple Health generator: which UTC offset is in force, and fast stamps.

Apple writes every date as `yyyy-MM-dd HH:mm:ss ±HHMM` with the offset of the moment. The
person lives in one zone and travels to another, and both zones have DST, so the offset
changes inside the file. `strftime` through zoneinfo costs microseconds per call, which is
most of the budget of a record at 150k records/s; instead the offset timeline is computed
once as a short list of change points and stamps are assembled from lookup tables.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_EPOCH = date(1970, 1, 1)
_HM = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
_SS = [f"{s:02d}" for s in range(60)]
# DST rules never change twice within six hours, so probing at this step finds every change.
_PROBE = 6 * 3600


def _offset_s(zone: ZoneInfo, t: int) -> int:
    """UTC offset in seconds of `zone` at epoch second `t`."""
    delta = datetime.fromtimestamp(t, zone).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def format_offset(offset_s: int) -> str:
    """`+0100` / `-0500`: Apple's offset, without a colon."""
    sign = "-" if offset_s < 0 else "+"
    minutes = abs(offset_s) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def local_to_utc(day: date, seconds: int, zone: str) -> int:
    """Epoch second of a wall-clock time (`seconds` after local midnight) on `day` in `zone`."""
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    return int(naive.replace(tzinfo=ZoneInfo(zone)).timestamp())


class Clock:
    """The offset in force at any UTC second, from zone segments `(utc_from, zone_name)`.

    The first segment also covers everything before its start. Within a segment the zone's
    own DST rules apply, so the offset can change at a DST transition or at a zone switch.
    """

    def __init__(self, segments: list[tuple[int, str]], until: int) -> None:
        starts: list[int] = []
        offsets: list[int] = []
        zones: list[str] = []
        for i, (begin, name) in enumerate(segments):
            end = segments[i + 1][0] if i + 1 < len(segments) else until
            zone = ZoneInfo(name)
            current = _offset_s(zone, begin)
            starts.append(begin)
            offsets.append(current)
            zones.append(name)
            t = begin
            while t < end:
                nxt = min(t + _PROBE, end)
                probe = _offset_s(zone, nxt)
                if probe != current:
                    lo, hi = t, nxt  # offset(lo) == current, offset(hi) == probe
                    while hi - lo > 1:
                        mid = (lo + hi) // 2
                        if _offset_s(zone, mid) == current:
                            lo = mid
                        else:
                            hi = mid
                    starts.append(hi)
                    offsets.append(probe)
                    zones.append(name)
                    current = probe
                t = nxt
        starts[0] = -(2**62)
        self._starts = starts
        self._offsets = offsets
        self._zones = zones
        self._suffixes = [" " + format_offset(o) for o in offsets]
        self._dates: dict[int, str] = {}
        self._lo = self._hi = 0
        self._off = 0
        self._suffix = ""
        self.offsets_seen: set[int] = set()

    def _index(self, t: int) -> int:
        return bisect_right(self._starts, t) - 1

    def offset(self, t: int) -> int:
        """Offset in seconds in force at `t` (no bookkeeping: used for ground truth)."""
        return self._offsets[self._index(t)]

    def zone(self, t: int) -> str:
        """IANA name of the zone in force at `t`, for `HKTimeZone` metadata."""
        return self._zones[self._index(t)]

    def _day(self, day_number: int) -> str:
        text = self._dates.get(day_number)
        if text is None:
            text = self._dates[day_number] = (_EPOCH + timedelta(days=day_number)).isoformat()
        return text

    def local_date(self, t: int) -> str:
        """Local calendar date `YYYY-MM-DD` at `t`, with the offset in force at `t`."""
        return self._day((t + self.offset(t)) // 86400)

    def stamp(self, t: int) -> str:
        """`yyyy-MM-dd HH:mm:ss ±HHMM` for epoch second `t`; records the offset as written."""
        if not self._lo <= t < self._hi:
            i = self._index(t)
            self._lo = self._starts[i]
            self._hi = self._starts[i + 1] if i + 1 < len(self._starts) else 2**62
            self._off = self._offsets[i]
            self._suffix = self._suffixes[i]
            self.offsets_seen.add(self._off // 60)
        day, sec = divmod(t + self._off, 86400)
        return f"{self._day(day)} {_HM[sec // 60]}:{_SS[sec % 60]}{self._suffix}"

    def clock_time(self, t: float) -> str:
        """Local `HH:MM:SS,cc` (comma decimal, as in a European export) for HRV beat times."""
        local = t + self.offset(int(t))
        centis = int(round(local * 100)) % 8_640_000
        sec, cs = divmod(centis, 100)
        return f"{_HM[sec // 60]}:{_SS[sec % 60]},{cs:02d}"


def utc_iso(t: int) -> str:
    """GPX time: ISO-8601 UTC with `Z`."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
