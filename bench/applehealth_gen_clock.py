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
        self._dates: dict[int, str] = {}
        # Cursor of `stamp`: the offset segment [lo, hi) and the local day [day_lo, day_hi).
        self._lo = self._hi = 0
        self._off = 0
        self._suffix = ""
        self._day_lo = self._day_hi = 0
        self._day_text = ""
        # Separate cursor for ground-truth lookups, which must not count as written offsets.
        self._q_lo = self._q_hi = 0
        self._q_off = 0
        self.offsets_seen: set[int] = set()

    def _index(self, t: int) -> int:
        return bisect_right(self._starts, t) - 1

    def _segment(self, t: int) -> tuple[int, int, int]:
        """`(start, end, offset)` of the offset segment containing `t`."""
        i = self._index(t)
        end = self._starts[i + 1] if i + 1 < len(self._starts) else 2**62
        return self._starts[i], end, self._offsets[i]

    def offset(self, t: int) -> int:
        """Offset in seconds in force at `t` (no bookkeeping: used for ground truth)."""
        if not self._q_lo <= t < self._q_hi:
            self._q_lo, self._q_hi, self._q_off = self._segment(t)
        return self._q_off

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
        if not self._q_lo <= t < self._q_hi:
            self._q_lo, self._q_hi, self._q_off = self._segment(t)
        return self._day((t + self._q_off) // 86400)

    def date_pieces(self, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """Minute ranges `[first, end)` of [lo, hi) with their local date.

        Minute `m` belongs to the piece whose UTC range holds `m * 60`: the offset in force
        at the start of the minute decides its local date.
        """
        pieces = []
        i = self._index(lo)
        t = lo
        while t < hi:
            seg_end = min(self._starts[i + 1] if i + 1 < len(self._starts) else hi, hi)
            off = self._offsets[i]
            while t < seg_end:
                day = (t + off) // 86400
                end = min(seg_end, (day + 1) * 86400 - off)
                pieces.append((-(-t // 60), -(-end // 60), self._day(day)))
                t = end
            i += 1
        return pieces

    def stamp(self, t: int) -> str:
        """`yyyy-MM-dd HH:mm:ss ±HHMM` for epoch second `t`; records the offset as written.

        The hot path of the generator (two or three calls per record): two range checks
        against cached segments, then table lookups.
        """
        if not self._lo <= t < self._hi:
            self._lo, self._hi, self._off = self._segment(t)
            self._suffix = " " + format_offset(self._off)
            self._day_lo = self._day_hi = 0
            self.offsets_seen.add(self._off // 60)
        local = t + self._off
        if not self._day_lo <= local < self._day_hi:
            day = local // 86400
            self._day_lo = day * 86400
            self._day_hi = self._day_lo + 86400
            self._day_text = self._day(day) + " "
        sec = local - self._day_lo
        return f"{self._day_text}{_HM[sec // 60]}:{_SS[sec % 60]}{self._suffix}"

    def clock_time(self, t: float) -> str:
        """Local `HH:MM:SS,cc` (comma decimal, as in a European export) for HRV beat times."""
        local = t + self.offset(int(t))
        centis = round(local * 100) % 8_640_000
        sec, cs = divmod(centis, 100)
        return f"{_HM[sec // 60]}:{_SS[sec % 60]},{cs:02d}"


def utc_iso(t: int) -> str:
    """GPX time: ISO-8601 UTC with `Z`."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
