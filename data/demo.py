"""Fast, deterministic synthetic health data for the demo login, screenshots and load tests.

Every person and number here is made up. The signals are physiologically plausible
(circadian heart rate, sleep cycles, commute steps, post-meal glucose peaks) so charts,
rollups and reference bands behave as they would with real exports. Pure (no database, no
I/O) and vectorised with numpy: rows come out as the tuples the storage layer bulk-inserts.

A day-level plan (sleep, walks, workouts, readings) is drawn once for the whole window;
minute-level signals are computed per chunk with counter-based noise keyed on the timestamp,
so the rows never depend on `chunk_days`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise, repeat
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from data.demo_sleep import IN_BED, Nights, plan_nights

# (metric, start_ts, end_ts, utc_offset_min, value, source), as data.repository consumes.
Row = tuple[str, int, int, int, float, str]

_WATCH, _PHONE, _SCALE = "Apple Watch", "iPhone", "Withings Body+"
_CUFF, _CGM = "Omron M7", "Dexcom G7"
SOURCES: Mapping[str, str] = MappingProxyType(
    {_WATCH: "watch", _PHONE: "phone", _SCALE: "scale", _CUFF: "bp_cuff", _CGM: "cgm"}
)

_DAY, _HOUR, _MINUTE = 86400, 3600, 60
_CGM_STEP_S = 300
_NO_DST = np.iinfo(np.int64).max
# Heart rate above resting HR, indexed by sleep stage code (2 awake, 3 core, 4 deep, 5 REM).
_STAGE_HR = np.array([0.0, 0.0, 4.0, -4.0, -7.0, -1.0])
_WALK, _RUN, _WORKOUT = 0, 1, 2


@dataclass(frozen=True)
class PatientProfile:
    """A made-up person: the fixed traits every generated signal is built around."""

    name: str
    birth_date: date
    sex: Literal["female", "male"]
    timezone: str
    height_m: float
    start_weight_kg: float
    weight_trend_kg_per_year: float
    resting_hr: float
    hypertensive: bool = False
    diabetic: bool = False
    travel: tuple[tuple[date, date, str], ...] = ()
    # Days before the end of the data that this person's devices stopped syncing.
    silent_days: int = 0


_FEMALE = (
    "Camille", "Lea", "Ines", "Chloe", "Manon", "Sarah", "Julie", "Emma", "Clara", "Zoe",
    "Alice", "Nora", "Elise", "Maya", "Lucie", "Anna",
)
_MALE = (
    "Hugo", "Lucas", "Louis", "Nathan", "Theo", "Adam", "Jules", "Arthur", "Paul", "Malo",
    "Victor", "Elias", "Noe", "Tom", "Yanis", "Samuel",
)
# Invented surnames, so a generated name is unlikely to be a real person's.
_SURNAMES = (
    "Bervelle", "Castagnol", "Dumarest", "Ferrandel", "Garnelle", "Haudrin", "Jolivert",
    "Lambrecq", "Marvaud", "Nortiel", "Orsevin", "Pelletard", "Querand", "Rivalde",
    "Sauvelin", "Tessandier", "Valcourtin", "Vernouzet", "Wattrelle", "Ylvarde",
)
_CLINIC_ZONES = ("Europe/Paris",) * 4 + ("Europe/Brussels", "Europe/Zurich", "Europe/London")


def demo_profiles(
    n_clinic_patients: int = 25, seed: int = 7, *, today: date | None = None
) -> tuple[PatientProfile, list[PatientProfile]]:
    """The demo patient (who logs in; has one trip abroad across time zones) and the clinic's
    patients. Exactly one clinic patient is hypertensive and exactly one is diabetic (two
    different people when there are two or more; the demo patient is neither).

    `today` (default: today) anchors the demo trip ~5 months back so it lies in the year
    that `generate(..., end=today)` covers.
    """
    today = today or date.today()
    trip = (today - timedelta(days=150), today - timedelta(days=143), "America/New_York")
    demo = PatientProfile(
        name="Camille Dorvane", birth_date=date(1988, 5, 14), sex="female",
        timezone="Europe/Paris", height_m=1.68, start_weight_kg=66.0,
        weight_trend_kg_per_year=-1.2, resting_hr=58.0, travel=(trip,),
    )
    people = [
        (first, sex, last)
        for sex, firsts in (("female", _FEMALE), ("male", _MALE))
        for first in firsts
        for last in _SURNAMES
    ]
    if n_clinic_patients > len(people):
        # a large clinic: the same invented names with a middle initial
        people += [(first, sex, f"{initial}. {last}") for initial in "ABCDEFGHJKLMNPRSTVW"
                   for first, sex, last in people]
    if not 1 <= n_clinic_patients <= len(people):
        raise ValueError(f"n_clinic_patients must be between 1 and {len(people)}")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(people), n_clinic_patients, replace=False).tolist()
    flagged = rng.choice(n_clinic_patients, min(2, n_clinic_patients), replace=False)
    hypertensive, diabetic = int(flagged[0]), int(flagged[-1])
    clinic = []
    for i, pick in enumerate(picks):
        first, sex, last = people[pick]
        age = int(rng.integers(24, 82))
        height = rng.normal(1.77, 0.07) if sex == "male" else rng.normal(1.64, 0.06)
        bmi = np.clip(rng.normal(24.5, 3.0), 19, 31) + 3 * (i == hypertensive) + 5 * (i == diabetic)
        clinic.append(PatientProfile(
            name=f"{first} {last}",
            birth_date=date(today.year - age, 1, 1) + timedelta(days=int(rng.integers(365))),
            sex="male" if sex == "male" else "female",
            timezone=str(rng.choice(_CLINIC_ZONES)),
            height_m=round(float(height), 2),
            start_weight_kg=round(float(bmi * height**2), 1),
            weight_trend_kg_per_year=round(float(np.clip(rng.normal(0, 1.0), -3, 3)), 2),
            resting_hr=round(float(np.clip(rng.normal(64, 6), 50, 80)), 1),
            hypertensive=i == hypertensive,
            diabetic=i == diabetic,
        ))
    return demo, _clinic_mix(clinic, seed)


def _clinic_mix(clinic: list[PatientProfile], seed: int) -> list[PatientProfile]:
    """A triage list worth triaging: some patients whose devices went quiet, and in a large
    clinic the usual share of hypertension (about 1 in 4) and diabetes (about 1 in 12).

    Drawn from a generator of its own, so the profiles above stay what they were.
    """
    n = len(clinic)
    if n < 5:
        return clinic
    rng = np.random.default_rng(seed + 10_007)
    silent = rng.choice(n, max(1, round(n * 0.08)), replace=False)
    days = rng.integers(3, 22, len(silent))
    changes: dict[int, dict] = {int(i): {"silent_days": int(d)} for i, d in zip(silent, days,
                                                                                 strict=True)}
    if n > 25:
        for i in np.flatnonzero(rng.random(n) < 0.25):
            changes.setdefault(int(i), {})["hypertensive"] = True
        for i in np.flatnonzero(rng.random(n) < 0.08):
            changes.setdefault(int(i), {})["diabetic"] = True
    return [replace(p, **changes.get(i, {})) for i, p in enumerate(clinic)]


def generate(
    profile: PatientProfile, seed: int, end: date, days: int = 365,
    hr_interval_s: int = 60, chunk_days: int = 31,
) -> Iterator[list[Row]]:
    """Yield lists of observation rows, at most `chunk_days` days at a time, covering
    [end - days, end) in the person's local days.

    Rows depend only on (profile, seed, end, days) and `hr_interval_s`; chunking only
    splits them. A row belongs to the chunk holding its start; a night that begins on the
    window's last evening is left out, so every hypnogram in the output is whole.
    """
    if days < 1 or hr_interval_s < 1 or chunk_days < 1:
        raise ValueError("days, hr_interval_s and chunk_days must be positive")
    return _chunks(_plan(profile, seed, end, days), hr_interval_s, chunk_days)


def _chunks(plan: _Plan, step: int, chunk_days: int) -> Iterator[list[Row]]:
    """Lazily materialise the plan chunk by chunk, keeping tuples for one chunk in memory."""
    starts = plan.cal.starts.tolist()
    for first in range(1, len(starts) - 1, chunk_days):
        lo, hi = starts[first], starts[min(first + chunk_days, len(starts) - 1)]
        rows: list[Row] = []
        for s in plan.series:
            a, b = np.searchsorted(s.start, (lo, hi))
            end = None if s.end is None else s.end[a:b]
            _emit(rows, plan.cal, s.metric, s.source, s.start[a:b], s.value[a:b], end)
        _emit(rows, plan.cal, "heart_rate", _WATCH, *_heart_rate(plan, lo, hi, step))
        if plan.glucose is not None:
            _emit(rows, plan.cal, "blood_glucose", _CGM, *_glucose(plan, lo, hi))
        yield rows


def _emit(
    rows: list[Row], cal: _Calendar, metric: str, source: str,
    start: np.ndarray, value: np.ndarray, end: np.ndarray | None = None,
) -> None:
    """Append columns as row tuples; zip over .tolist() keeps per-row work in C."""
    s = start.tolist()
    offset = cal.offset(start).tolist()
    e = s if end is None else end.tolist()
    values = value.astype(np.float64).tolist()
    rows.extend(zip(repeat(metric), s, e, offset, values, repeat(source)))


# --- Calendar and time zones ---------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """Local days from the day before the window to `end`, as UTC seconds of local midnight.

    Each day uses that day's zone (a trip's zone during the trip), so trip and DST days are
    simply shorter or longer than 24 h. From `step_ts[i]` on the UTC offset is `step_min[i]`:
    per-row offsets are one searchsorted, zoneinfo is only asked once per day.
    """

    weekday: np.ndarray
    ordinal: np.ndarray
    starts: np.ndarray
    dst_at: np.ndarray
    dst_shift: np.ndarray
    step_ts: np.ndarray
    step_min: np.ndarray

    def offset(self, ts: np.ndarray) -> np.ndarray:
        """UTC offset in minutes at each instant."""
        return self.step_min[np.maximum(np.searchsorted(self.step_ts, ts, "right") - 1, 0)]

    def at(self, day: np.ndarray, clock_s: np.ndarray | float) -> np.ndarray:
        """UTC seconds of wall-clock `clock_s` (may pass 24 h) on calendar days `day`."""
        t = self.starts[day] + np.rint(clock_s).astype(np.int64)
        return t - np.where(t >= self.dst_at[day], self.dst_shift[day], 0)

    def hour(self, ts: np.ndarray) -> np.ndarray:
        """Local wall-clock hour (float) of each instant."""
        return (ts + self.offset(ts) * _MINUTE) % _DAY / _HOUR


def _zone_on(profile: PatientProfile, day: date) -> str:
    """Where the person is on `day`: a trip's zone, else home."""
    for first, last, zone in profile.travel:
        if first <= day <= last:
            return zone
    return profile.timezone


def _offset_min(zone: ZoneInfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return int(offset.total_seconds()) // _MINUTE if offset else 0


def _calendar(profile: PatientProfile, end: date, days: int) -> _Calendar:
    """Day boundaries and offset steps; DST switches are found by bisection within a day."""
    dates = [end - timedelta(days=days + 1 - k) for k in range(days + 2)]
    zones = [ZoneInfo(_zone_on(profile, d)) for d in dates]
    starts = [
        int(datetime.combine(d, time(), tzinfo=z).timestamp())
        for d, z in zip(dates, zones, strict=True)
    ]
    if any(b <= a for a, b in pairwise(starts)):
        raise ValueError("a trip jumps more than 24 h of time zones; days would overlap")
    step_ts, step_min, dst_at, dst_shift = [], [], [], []
    for k, zone in enumerate(zones):
        lo = starts[k]
        hi = (starts[k + 1] if k + 1 < len(starts) else lo + _DAY) - 1
        first, last = _offset_min(zone, lo), _offset_min(zone, hi)
        step_ts.append(lo)
        step_min.append(first)
        if first == last:
            dst_at.append(_NO_DST)
            dst_shift.append(0)
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _offset_min(zone, mid) == first else (lo, mid)
        step_ts.append(hi)
        step_min.append(last)
        dst_at.append(hi)
        dst_shift.append((last - first) * _MINUTE)
    return _Calendar(
        weekday=np.array([d.weekday() for d in dates]),
        ordinal=np.array([d.toordinal() for d in dates]),
        starts=np.array(starts, dtype=np.int64),
        dst_at=np.array(dst_at, dtype=np.int64),
        dst_shift=np.array(dst_shift, dtype=np.int64),
        step_ts=np.array(step_ts, dtype=np.int64),
        step_min=np.array(step_min, dtype=np.int64),
    )


# --- Interval and noise helpers ------------------------------------------------------------


def _inside(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Which instants fall in any [start, end) interval (starts sorted; overlaps allowed)."""
    if not len(start):
        return np.zeros(len(t), dtype=bool)
    i = np.searchsorted(start, t, "right") - 1
    return (i >= 0) & (t < np.maximum.accumulate(end)[np.maximum(i, 0)])


def _overlaps(start: np.ndarray, end: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Which intervals [s, e) intersect any [start, end) interval (any order)."""
    if not len(start):
        return np.zeros(len(s), dtype=bool)
    order = np.argsort(start, kind="stable")
    i = np.searchsorted(start[order], e, "left") - 1
    return (i >= 0) & (s < np.maximum.accumulate(end[order])[np.maximum(i, 0)])


def _uniform(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """Uniform (0, 1) per index via splitmix64: counter-based, so values depend on the
    timestamp alone and any chunking reproduces them exactly."""
    x = idx.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _normal(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """Standard normal per index (Box-Muller over two hashed uniforms)."""
    radius = np.sqrt(-2.0 * np.log(_uniform(key, idx)))
    return radius * np.cos(2 * np.pi * _uniform(key ^ np.uint64(0xD1B54A32D192ED03), idx))


def _smooth(key: np.uint64, t: np.ndarray, knot_s: int) -> np.ndarray:
    """Slowly wandering noise: normal values every `knot_s` seconds, eased in between."""
    pos = t / knot_s
    k = np.floor(pos).astype(np.int64)
    f = pos - k
    f = f * f * (3 - 2 * f)
    a, b = _normal(key, k), _normal(key, k + 1)
    return a + (b - a) * f


def _event_sum(
    t: np.ndarray, at: np.ndarray, width: int, step: int,
    shape: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Sum of event responses on a regular grid `t`: shape(elapsed_s, event_index) for each
    grid point up to `width` s after each sorted event time in `at`."""
    a, b = np.searchsorted(at, (t[0] - width, t[-1] + 1))
    event = np.arange(a, b)[:, None]
    idx = np.searchsorted(t, at[a:b])[:, None] + np.arange(width // step + 2)
    ok = idx < len(t)
    idx = np.minimum(idx, len(t) - 1)
    tau = t[idx] - at[event]
    ok &= (tau >= 0) & (tau <= width)
    return np.bincount(idx[ok], shape(tau, event)[ok], minlength=len(t))


# --- The plan: everything drawn at day level, once per window --------------------------------


@dataclass(frozen=True)
class _Series:
    """One metric from one source, sorted by start, so a chunk is a searchsorted slice."""

    metric: str
    source: str
    start: np.ndarray
    value: np.ndarray
    end: np.ndarray | None = None  # None for instant readings

    def within(self, lo: int, hi: int) -> _Series:
        """Rows fully inside [lo, hi), sorted, one per start."""
        last = self.start if self.end is None else self.end
        keep = np.flatnonzero((self.start >= lo) & (self.start < hi) & (last <= hi))
        keep = keep[np.argsort(self.start[keep], kind="stable")]
        keep = keep[np.diff(self.start[keep], prepend=lo - 1) > 0]
        end = None if self.end is None else self.end[keep]
        return _Series(self.metric, self.source, self.start[keep], self.value[keep], end)


@dataclass(frozen=True)
class _Bouts:
    """Walks, runs and workouts: sorted, non-overlapping, never in bed."""

    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    cadence: np.ndarray  # steps per minute (0 for workouts without steps)
    effort: np.ndarray  # bpm added while walking; target bpm for runs and workouts
    carried: np.ndarray  # whether the phone was in a pocket


@dataclass(frozen=True)
class _Glucose:
    """Meals, nocturnal lows and _CGM gaps for the diabetic patient."""

    base: float
    meal_t: np.ndarray
    meal_rise: np.ndarray
    meal_peak_s: np.ndarray
    low_t: np.ndarray
    low_depth: np.ndarray
    gap_start: np.ndarray
    gap_end: np.ndarray


@dataclass(frozen=True)
class _Plan:
    cal: _Calendar
    nights: Nights
    rhr_day: np.ndarray
    bouts: _Bouts
    off_start: np.ndarray  # watch off the wrist (charging, forgotten days)
    off_end: np.ndarray
    series: list[_Series]
    keys: np.ndarray
    glucose: _Glucose | None


def _plan(profile: PatientProfile, seed: int, end: date, days: int) -> _Plan:
    """Draw every day-level event of the window from one generator seeded by (seed, profile)."""
    root = np.random.SeedSequence([seed, zlib.crc32(repr(profile).encode())])
    plan_seq, noise_seq = root.spawn(2)
    rng = np.random.default_rng(plan_seq)
    cal = _calendar(profile, end, days)
    lo, hi = int(cal.starts[1]), int(cal.starts[-1])
    age = (end - profile.birth_date).days / 365.25
    k = np.arange(len(cal.starts))
    phase = rng.uniform(0, 2 * np.pi, 2)
    drift = 2.0 * np.sin(2 * np.pi * k / rng.uniform(180, 400) + phase[0])
    drift += 0.8 * np.sin(2 * np.pi * k / rng.uniform(25, 60) + phase[1])
    rhr_day = profile.resting_hr + drift + np.clip(rng.normal(0, 0.8, len(k)), -1.5, 1.5)

    evening = k[:-1]  # nights start on the day before the window .. the window's last day
    nights = plan_nights(rng, cal.weekday[evening], lambda clock: cal.at(evening, clock))
    whole = (nights.bed_start >= lo) & (nights.bed_end <= hi)
    day = k[1:-1]
    off = rng.random(len(day)) < 0.03
    bouts = _activity(rng, cal, nights, day, off, age, (lo, hi))
    off_start, off_end = _not_worn(rng, nights, day, off, bouts)
    in_night = whole[nights.stage_night]
    series = [
        _Series("sleep_stage", _WATCH, nights.stage_start[in_night],
                nights.stage[in_night].astype(np.float64), nights.stage_end[in_night]),
        _Series("sleep_stage", _PHONE, nights.bed_start[whole],
                np.full(whole.sum(), float(IN_BED)), nights.bed_end[whole]),
        *_step_series(rng, bouts, off_start, off_end, profile),
        *_vitals(rng, cal, nights, whole, day, profile, age, rhr_day, (off_start, off_end)),
    ]
    glucose = _glucose_plan(rng, cal, nights, day, (lo, hi)) if profile.diabetic else None
    return _Plan(
        cal=cal, nights=nights, rhr_day=rhr_day, bouts=bouts, off_start=off_start,
        off_end=off_end, series=[s.within(lo, hi) for s in series],
        keys=noise_seq.generate_state(4, np.uint64), glucose=glucose,
    )


def _weekly_quota(
    rng: np.random.Generator, cal: _Calendar, day: np.ndarray, low: int, high: int
) -> np.ndarray:
    """Mask choosing `low`..`high` random days in each Monday-based week."""
    week = (cal.ordinal[day] - cal.weekday[day]) // 7
    week -= week.min()
    order = np.lexsort((rng.random(len(day)), week))
    rank = np.empty(len(day), dtype=np.int64)
    rank[order] = np.arange(len(day)) - np.searchsorted(week[order], week[order])
    return rank < rng.integers(low, high + 1, week.max() + 1)[week]


def _activity(
    rng: np.random.Generator, cal: _Calendar, nights: Nights, day: np.ndarray,
    off: np.ndarray, age: float, window: tuple[int, int],
) -> _Bouts:
    """Commutes and lunch walks on weekdays, long walks at weekends, errands every day and
    3-5 workouts a week; daily steps are then scaled into 3,000-15,000, fewer with age."""
    weekend = cal.weekday[day] >= 5
    cols: list[tuple[np.ndarray, ...]] = []

    def add(d: np.ndarray, clock: np.ndarray, minutes: tuple[int, int], kind: np.ndarray,
            cadence: np.ndarray, effort: np.ndarray, carry: np.ndarray | float) -> None:
        n = len(d)
        duration = rng.uniform(*minutes, n) * _MINUTE
        carried = rng.random(n) < carry
        cols.append(np.broadcast_arrays(d, clock, duration, kind, cadence, effort, carried))

    def walks(d: np.ndarray, hour: np.ndarray | float, sd_min: float,
              minutes: tuple[int, int], cadence: tuple[int, int], carry: float) -> None:
        n = len(d)
        clock = hour * _HOUR + rng.normal(0, sd_min * _MINUTE, n)
        add(d, clock, minutes, np.full(n, _WALK), rng.uniform(*cadence, n),
            rng.uniform(15, 28, n), carry)

    workday = day[~weekend & (rng.random(len(day)) < 0.9)]
    walks(workday, 7.9, 15, (15, 30), (95, 115), 0.97)
    walks(workday, 17.9, 35, (15, 30), (95, 115), 0.97)
    walks(day[~weekend & (rng.random(len(day)) < 0.6)], 12.4, 15, (10, 25), (85, 105), 0.8)
    walks(day[weekend & (rng.random(len(day)) < 0.85)], 14.5, 80, (60, 150), (90, 110), 0.9)
    errand = np.repeat(day, rng.poisson(np.where(weekend, 5, 4)) + 2)
    walks(errand, rng.uniform(8.5, 21, len(errand)), 0, (3, 10), (60, 100), 0.7)
    ex = day[~off][_weekly_quota(rng, cal, day[~off], 3, 5)]
    run = rng.random(len(ex)) < 0.5
    clock = np.where(cal.weekday[ex] >= 5, 10.5, 18.75) * _HOUR
    peak = np.minimum(rng.uniform(130, 170, len(ex)), 0.93 * (208 - 0.7 * age))
    add(ex, clock + rng.normal(0, 45 * _MINUTE, len(ex)), (30, 60), np.where(run, _RUN, _WORKOUT),
        np.where(run, rng.uniform(150, 170, len(ex)), 0), peak, np.where(run, 0.6, 0.2))

    columns = map(np.concatenate, zip(*cols, strict=True))
    d, clock, duration, kind, cadence, effort, carried = columns
    start = cal.at(d, clock)
    end = start + duration.astype(np.int64)
    # Nothing happens in bed or outside the window; a workout wins over a walk it overlaps.
    keep = (start >= window[0]) & (end <= window[1])
    keep &= ~_overlaps(nights.bed_start, nights.bed_end, start, end)
    workout = kind != _WALK
    keep &= workout | ~_overlaps(start[workout], end[workout], start, end)
    keep = np.flatnonzero(keep)
    keep = keep[np.argsort(start[keep], kind="stable")]
    reach = np.maximum.accumulate(end[keep])
    keep = keep[np.append(True, start[keep][1:] >= reach[:-1])]
    planned = np.bincount(d[keep], cadence[keep] * duration[keep] / _MINUTE, len(cal.starts))
    vigour = np.clip(1.3 - age / 100, 0.6, 1.0)  # older patients walk less
    scale = np.divide(np.clip(planned * vigour, 3500, 14000), planned, np.ones_like(planned),
                      where=planned > 0)
    cadence = np.minimum(cadence[keep] * np.clip(scale, 0.4, 1.6)[d[keep]], 180)
    return _Bouts(start[keep], end[keep], kind[keep], cadence, effort[keep], carried[keep])


def _not_worn(
    rng: np.random.Generator, nights: Nights, day: np.ndarray, off: np.ndarray, bouts: _Bouts
) -> tuple[np.ndarray, np.ndarray]:
    """When the watch is off the wrist: a 1-2 h charge most days, in the evening or after
    waking, whichever is free of workouts and bed; on `off` days from waking until bedtime."""
    wake, bed = nights.wake[day - 1], nights.bed_start[day]
    n = len(day)
    duration = (rng.uniform(60, 110, n) * _MINUTE).astype(np.int64)
    morning = wake + (rng.uniform(10, 40, n) * _MINUTE).astype(np.int64)
    evening = bed - duration - (rng.uniform(30, 120, n) * _MINUTE).astype(np.int64)
    workout = bouts.kind != _WALK

    def free(start: np.ndarray) -> np.ndarray:
        end = start + duration
        clash = _overlaps(bouts.start[workout], bouts.end[workout], start, end)
        return (start >= wake) & (end <= bed - 5 * _MINUTE) & ~clash

    use_evening = ((rng.random(n) < 0.6) | ~free(morning)) & free(evening)
    start = np.where(use_evening, evening, morning)
    end = start + duration
    charge = ~off & free(start)
    s = np.concatenate([start[charge], wake[off] + 10 * _MINUTE])
    e = np.concatenate([end[charge], bed[off] - 10 * _MINUTE])
    order = np.argsort(s, kind="stable")
    return s[order], e[order]


def _segments(
    rng: np.random.Generator, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split bouts into consecutive samples of roughly 1-10 minutes, as devices batch steps;
    returns sample starts, ends and the bout index of each."""
    duration = end - start
    k = np.maximum(1, np.rint(duration / rng.uniform(120, 360, len(start)))).astype(np.int64)
    bout = np.repeat(np.arange(len(start)), k)
    j = np.arange(len(bout)) - np.repeat(np.cumsum(k) - k, k)
    jitter = rng.uniform(-0.2, 0.2, len(bout)) * (j > 0)
    seg_start = start[bout] + np.rint(duration[bout] * (j + jitter) / k[bout]).astype(np.int64)
    seg_end = np.append(seg_start[1:], 0)
    seg_end[np.cumsum(k) - 1] = end
    return seg_start, seg_end, bout


def _step_series(
    rng: np.random.Generator, bouts: _Bouts, off_start: np.ndarray, off_end: np.ndarray,
    profile: PatientProfile,
) -> list[_Series]:
    """Steps and distance from watch and phone over the same walks, batched differently and
    a few percent apart (the watch counts more, misses charging time; the phone misses walks
    it was not carried on); active energy from the watch only."""
    out = []
    for source, gain, bout_ok in (
        (_WATCH, 1.03, np.ones(len(bouts.start), dtype=bool)),
        (_PHONE, 0.97, bouts.carried & (bouts.cadence > 0)),
    ):
        s, e, b = _segments(rng, bouts.start[bout_ok], bouts.end[bout_ok])
        b = np.flatnonzero(bout_ok)[b]
        if source == _WATCH:
            worn = ~_inside(off_start, off_end, (s + e) // 2)
            s, e, b = s[worn], e[worn], b[worn]
        minutes = (e - s) / _MINUTE
        steps = np.rint(bouts.cadence[b] * minutes * gain * rng.normal(1, 0.02, len(b)))
        stride_m = profile.height_m * np.where(bouts.kind[b] == _RUN, 0.68, 0.415)
        km = np.round(steps * stride_m * rng.normal(1, 0.02, len(b)) / 1000, 3)
        walked = steps > 0
        out += [
            _Series("steps", source, s[walked], steps[walked], e[walked]),
            _Series("distance", source, s[walked], km[walked], e[walked]),
        ]
        if source == _WATCH:
            # ~0.5 kcal/kg/km walking, ~1 running; workouts at about 7 METs.
            per_km = np.where(bouts.kind[b] == _RUN, 1.0, 0.5) * profile.start_weight_kg
            effort = 0.105 * profile.start_weight_kg * minutes * rng.uniform(0.8, 1.2, len(b))
            kcal = np.round(np.where(bouts.kind[b] == _WORKOUT, effort, km * per_km), 1)
            out.append(_Series("active_energy", _WATCH, s[kcal > 0], kcal[kcal > 0], e[kcal > 0]))
    return out


def _vitals(
    rng: np.random.Generator, cal: _Calendar, nights: Nights, whole: np.ndarray,
    day: np.ndarray, profile: PatientProfile, age: float, rhr_day: np.ndarray,
    off: tuple[np.ndarray, np.ndarray],
) -> list[_Series]:
    """Instant readings: daily resting HR and weigh-ins, HRV, SpO2, breathing rate, blood
    pressure several times a week, the odd temperature and a weekly VO2 max estimate."""
    n = len(day)
    wake, bed = nights.wake[day - 1], nights.bed_start[day]

    def after(t: np.ndarray, lo_min: float, hi_min: float) -> np.ndarray:
        return t + (rng.uniform(lo_min, hi_min, len(t)) * _MINUTE).astype(np.int64)

    def within(lo: np.ndarray, hi: np.ndarray, per: np.ndarray) -> np.ndarray:
        """`per[i]` random instants in each [lo[i], hi[i])."""
        i = np.repeat(np.arange(len(lo)), per)
        return lo[i] + (rng.random(len(i)) * np.maximum(hi[i] - lo[i], 0)).astype(np.int64)

    hrv_day = np.repeat(day, rng.integers(2, 6, n))
    hrv_t = within(cal.starts[hrv_day], cal.starts[hrv_day + 1], np.ones(len(hrv_day), int))
    median = 60 * np.exp(-(rhr_day[hrv_day] - 60) / 25 - (age - 35) / 100)
    hrv = np.clip(median * np.exp(rng.normal(0, 0.25, len(hrv_day))), 20, 90).round(1)
    night = np.flatnonzero(whole)
    o2_night = within(nights.onset[night], nights.wake[night], rng.integers(2, 5, len(night)))
    o2_day = within(wake + _HOUR, bed - _HOUR, rng.integers(1, 4, n))
    o2_t = np.concatenate([o2_night, o2_day])
    o2 = np.clip(np.rint(rng.normal(96.9, 1.0, len(o2_t))), 94, 99)
    dip = (np.arange(len(o2_t)) < len(o2_night)) & (rng.random(len(o2_t)) < 0.03)
    o2[dip] = rng.integers(91, 94, dip.sum())
    rr_t = within(nights.onset[night], nights.wake[night], np.full(len(night), 3))
    rr = np.clip(rng.uniform(13.5, 16) + rng.normal(0, 0.6, len(rr_t)), 12, 18).round(1)

    weigh = rng.random(n) > 0.1
    years = (day - 1) / 365.25
    mass = profile.start_weight_kg + profile.weight_trend_kg_per_year * years
    mass += 0.5 * np.sin(2 * np.pi * day / rng.uniform(60, 120) + rng.uniform(0, 2 * np.pi))
    mass = (mass + np.clip(rng.normal(0, 0.2, n), -0.4, 0.4)).round(1)[weigh]
    bmi = (mass / profile.height_m**2).round(1)
    fat = 1.2 * bmi + 0.23 * age - 10.8 * (profile.sex == "male") - 5.4  # Deurenberg
    fat = np.clip(fat + rng.normal(0, 0.5, len(bmi)), 5, 50).round(1)
    weigh_t = after(wake[weigh], 5, 25)

    cuff = _weekly_quota(rng, cal, day, 3, 5)
    when = rng.choice(3, n, p=[0.4, 0.3, 0.3])  # morning, evening, both
    am, pm = cuff & (when != 1), cuff & (when != 0)
    bp_t = np.concatenate([after(wake[am], 15, 60), after(bed[pm], -90, -20)])
    morning = np.arange(len(bp_t)) < am.sum()
    if profile.hypertensive:
        sys = np.clip(rng.normal(151, 4, len(bp_t)) + 7 * morning, 140, 170)
        dia = np.clip(rng.normal(93.5, 2.5, len(bp_t)) + 3 * morning, 88, 106)
    else:
        sys = np.clip(rng.normal(120.5, 3.5, len(bp_t)) + 2 * morning, 110, 134)
        dia = np.clip(rng.normal(75.5, 3.0, len(bp_t)) + 1.5 * morning, 66, 86)

    fever_check = rng.random(n) < 0.15
    temp = np.clip(rng.normal(36.6, 0.18, fever_check.sum()), 36.2, 37.0).round(1)
    vo2_i = np.cumsum(rng.integers(6, 9, n // 6 + 1)) - 6
    vo2_i = vo2_i[vo2_i < n]
    fitness = (44 if profile.sex == "male" else 37) - 0.25 * (age - 35)
    fitness -= 0.3 * (profile.resting_hr - 60)
    vo2 = fitness + 1.5 * np.sin(2 * np.pi * vo2_i / 200) + rng.normal(0, 0.5, len(vo2_i))
    vo2_t = after(bed[vo2_i], -180, -60)

    def worn(t: np.ndarray) -> np.ndarray:
        return ~_inside(*off, t)

    return [
        _Series("resting_heart_rate", _WATCH, after(wake, 30, 90), np.rint(rhr_day[day])),
        _Series("hrv_sdnn", _WATCH, hrv_t[worn(hrv_t)], hrv[worn(hrv_t)]),
        _Series("spo2", _WATCH, o2_t[worn(o2_t)], o2[worn(o2_t)]),
        _Series("respiratory_rate", _WATCH, rr_t, rr),
        _Series("body_mass", _SCALE, weigh_t, mass),
        _Series("bmi", _SCALE, weigh_t, bmi),
        _Series("body_fat", _SCALE, weigh_t, fat),
        _Series("bp_systolic", _CUFF, bp_t, np.rint(sys)),
        _Series("bp_diastolic", _CUFF, bp_t, np.rint(dia)),
        # Typed into the Health app from a thermometer, hence the phone.
        _Series("body_temperature", _PHONE, after(wake[fever_check], 5, 30), temp),
        _Series("vo2max", _WATCH, vo2_t[worn(vo2_t)], np.clip(vo2, 30, 50).round(1)[worn(vo2_t)]),
    ]


def _glucose_plan(
    rng: np.random.Generator, cal: _Calendar, nights: Nights, day: np.ndarray,
    window: tuple[int, int],
) -> _Glucose:
    """Three meals (and some snacks) a day, a nocturnal low on ~20 % of nights, and _CGM
    gaps: a 2 h warm-up at each 10-day sensor swap plus brief signal losses."""
    n = len(day)
    snack = day[rng.random(n) < 0.4]
    meal_t = np.concatenate([
        nights.wake[day - 1] + (rng.uniform(20, 60, n) * _MINUTE).astype(np.int64),
        cal.at(day, 12.5 * _HOUR + rng.normal(0, 30 * _MINUTE, n)),
        cal.at(day, 19.75 * _HOUR + rng.normal(0, 40 * _MINUTE, n)),
        cal.at(snack, 16 * _HOUR + rng.normal(0, 60 * _MINUTE, len(snack))),
    ])
    rise = np.concatenate([
        rng.uniform(90, 160, n), rng.uniform(80, 150, n), rng.uniform(100, 170, n),
        rng.uniform(30, 70, len(snack)),
    ])
    order = np.argsort(meal_t, kind="stable")
    base = float(rng.uniform(112, 128))
    low_t = cal.at(day[rng.random(n) < 0.2], 3 * _HOUR)
    low_t += (rng.normal(0, 45, len(low_t)) * _MINUTE).astype(np.int64)
    swaps = np.arange(window[0] + rng.uniform(0, 10 * _DAY), window[1], 10 * _DAY)
    losses = rng.uniform(*window, rng.poisson(0.3 * n))
    gap_start = np.concatenate([swaps, losses]).astype(np.int64)
    gap_end = gap_start + np.concatenate([
        np.full(len(swaps), 2 * _HOUR), rng.uniform(15, 60, len(losses)) * _MINUTE
    ]).astype(np.int64)
    gaps = np.argsort(gap_start, kind="stable")
    return _Glucose(
        base=base, meal_t=meal_t[order], meal_rise=rise[order],
        meal_peak_s=rng.uniform(45, 75, len(order))[order] * _MINUTE,
        low_t=np.sort(low_t), low_depth=base - rng.uniform(52, 66, len(low_t)),
        gap_start=gap_start[gaps], gap_end=gap_end[gaps],
    )


# --- Minute-level signals, computed per chunk ----------------------------------------------


def _heart_rate(plan: _Plan, lo: int, hi: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Heart rate every `step` s while the watch is worn: circadian awake level, ramps into
    walks and workouts, stage-dependent sleeping rate, and smooth plus beat-to-beat noise."""
    t = np.arange(-(-lo // step) * step, hi, step, dtype=np.int64)
    t = t[~_inside(plan.off_start, plan.off_end, t)]
    rhr = plan.rhr_day[np.searchsorted(plan.cal.starts, t, "right") - 1]
    hr = rhr + 12 + 4 * np.cos(2 * np.pi * (plan.cal.hour(t) - 15) / 24)
    b = plan.bouts
    if len(b.start):
        i = np.maximum(np.searchsorted(b.start, t, "right") - 1, 0)
        ramp = np.clip(np.minimum(t - b.start[i], b.end[i] - t) / 300, 0, 1)
        target = np.where(b.kind[i] == _WALK, hr + b.effort[i], b.effort[i])
        hr += (target - hr) * ramp
    n = plan.nights
    hr = np.where(_inside(n.bed_start, n.bed_end, t), rhr + 3, hr)
    j = np.maximum(np.searchsorted(n.stage_start, t, "right") - 1, 0)
    asleep = (t >= n.stage_start[j]) & (t < n.stage_end[j])
    hr = np.where(asleep, rhr + _STAGE_HR[n.stage[j]], hr)
    noise = 3 * _smooth(plan.keys[0], t, 600) + 1.5 * _normal(plan.keys[1], t)
    return t, np.clip(np.rint(hr + np.where(asleep, 0.5, 1.0) * noise), 38, 205)


def _glucose(plan: _Plan, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """_CGM glucose every 5 min: baseline with a dawn rise, meal peaks, nocturnal lows, a dip
    during and after workouts, sensor noise; nothing during sensor gaps."""
    g = plan.glucose
    assert g is not None
    t = np.arange(-(-lo // _CGM_STEP_S) * _CGM_STEP_S, hi, _CGM_STEP_S, dtype=np.int64)
    if not len(t):
        return t, np.zeros(0)
    v = g.base + 15 * np.exp(-(((plan.cal.hour(t) - 6.5) / 1.5) ** 2))
    v += _event_sum(t, g.meal_t, 6 * _HOUR, _CGM_STEP_S, lambda tau, e: (
        g.meal_rise[e] * tau / g.meal_peak_s[e] * np.exp(1 - tau / g.meal_peak_s[e])
    ))
    v -= _event_sum(t, g.low_t - 2 * _HOUR, 4 * _HOUR, _CGM_STEP_S, lambda tau, e: (
        g.low_depth[e] * np.exp(-(((tau - 2 * _HOUR) / (35 * _MINUTE)) ** 2))
    ))
    workout = plan.bouts.kind != _WALK
    v -= 25 * _inside(plan.bouts.start[workout], plan.bouts.end[workout] + _HOUR, t)
    v += 10 * _smooth(plan.keys[2], t, 1800) + 3 * _normal(plan.keys[3], t)
    v = np.where(v > 280, 280 + 0.35 * (v - 280), v)  # counter-regulation flattens peaks
    keep = ~_inside(g.gap_start, g.gap_end, t)
    return t[keep], np.clip(np.rint(v[keep]), 40, 400)
