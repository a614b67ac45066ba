"""Behaviour of the synthetic demo data that a user would notice: it is reproducible, every
row is a known metric with a plausible value, daily rhythms look real (nights, commutes,
workouts, meals) and local UTC offsets follow DST and travel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from data import catalog
from data.demo import SOURCES, PatientProfile, demo_profiles, generate

PARIS = ZoneInfo("Europe/Paris")
END = date(2025, 6, 2)  # a Monday, so 42 days are six whole weeks
DAYS = 42
DAY0 = (END - timedelta(days=DAYS) - date(1970, 1, 1)).days  # local day number
PERSON = PatientProfile(
    name="Test Person", birth_date=date(1985, 3, 1), sex="male", timezone="Europe/Paris",
    height_m=1.78, start_weight_kg=78.0, weight_trend_kg_per_year=1.0, resting_hr=62.0,
)
INTERVAL_METRICS = {"steps", "distance", "active_energy", "sleep_stage"}
PLAUSIBLE = {
    "heart_rate": (38, 205), "resting_heart_rate": (45, 80), "hrv_sdnn": (20, 90),
    "steps": (1, 2000), "distance": (0.0005, 2.5), "active_energy": (0.1, 150),
    "body_mass": (70, 86), "body_fat": (10, 35), "bmi": (22, 27), "bp_systolic": (105, 135),
    "bp_diastolic": (65, 87), "spo2": (91, 99), "respiratory_rate": (12, 18),
    "body_temperature": (36.2, 37.0), "vo2max": (30, 50), "sleep_stage": (0, 5),
}


class Cols(NamedTuple):
    start: np.ndarray
    end: np.ndarray
    offset: np.ndarray
    value: np.ndarray

    @property
    def local_day(self) -> np.ndarray:
        return (self.start + self.offset * 60) // 86400

    @property
    def local_hour(self) -> np.ndarray:
        return (self.start + self.offset * 60) % 86400 / 3600


def rows_of(profile: PatientProfile = PERSON, seed: int = 1, end: date = END,
            days: int = DAYS, **kwargs: int) -> list[tuple]:
    return [row for chunk in generate(profile, seed, end, days, **kwargs) for row in chunk]


def cols(rows: list[tuple], metric: str, source: str | None = None) -> Cols:
    picked = [r for r in rows if r[0] == metric and source in (None, r[5])]
    if not picked:
        return Cols(*(np.zeros(0, dtype=np.int64) for _ in range(3)), np.zeros(0))
    _, start, end, offset, value, _ = zip(*picked, strict=True)
    return Cols(np.array(start), np.array(end), np.array(offset), np.array(value))


def midnight(day: date, zone: ZoneInfo = PARIS) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def offset_min(day: date, zone: ZoneInfo) -> int:
    offset = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def weekday(local_day: np.ndarray) -> np.ndarray:
    """Monday = 0 for days counted from 1970-01-01, which was a Thursday."""
    return (local_day + 3) % 7


@pytest.fixture(scope="module")
def rows() -> list[tuple]:
    return rows_of()


def test_same_seed_gives_identical_rows_and_another_seed_differs() -> None:
    first = rows_of(days=14)
    assert rows_of(days=14) == first
    other = rows_of(days=14, seed=2)
    assert cols(other, "heart_rate").value.tolist() != cols(first, "heart_rate").value.tolist()


def test_chunks_hold_at_most_chunk_days_local_days_and_only_split_the_rows(
    rows: list[tuple],
) -> None:
    chunks = list(generate(PERSON, 1, END, DAYS, chunk_days=10))
    assert len(chunks) == 5
    first_day = END - timedelta(days=DAYS)
    for i, chunk in enumerate(chunks):
        lo = midnight(first_day + timedelta(days=10 * i))
        hi = midnight(min(first_day + timedelta(days=10 * (i + 1)), END))
        starts = [r[1] for r in chunk]
        assert chunk and lo <= min(starts) and max(starts) < hi
    assert sorted(r for chunk in chunks for r in chunk) == sorted(rows)


def test_rows_have_the_storage_shape_known_metrics_and_plausible_values(
    rows: list[tuple],
) -> None:
    codes = {m.code for m in catalog.all_metrics()}
    for metric, start, end, offset, value, source in rows:
        assert metric in codes and source in SOURCES
        assert type(start) is int and type(end) is int and type(offset) is int
        assert type(value) is float
        assert end > start if metric in INTERVAL_METRICS else end == start
    for metric, (low, high) in PLAUSIBLE.items():
        values = cols(rows, metric).value
        assert len(values), metric
        assert low <= values.min() and values.max() <= high, metric
    assert set(cols(rows, "sleep_stage").value) == {0, 2, 3, 4, 5}
    assert not cols(rows, "blood_glucose").value.size  # not diabetic
    keys = [(r[0], r[1], r[2], r[5]) for r in rows]
    assert len(keys) == len(set(keys))  # the storage primary key would drop duplicates


def test_rows_lie_within_the_requested_local_days_and_reach_both_ends(
    rows: list[tuple],
) -> None:
    lo, hi = midnight(END - timedelta(days=DAYS)), midnight(END)
    assert all(lo <= r[1] and r[2] <= hi for r in rows)
    hr = cols(rows, "heart_rate").start
    assert hr.min() < lo + 600 and hr.max() >= hi - 3600


def test_heart_rate_is_sampled_at_the_interval_with_daily_charging_gaps() -> None:
    hr = cols(rows_of(days=14, hr_interval_s=30), "heart_rate")
    gaps = np.diff(hr.start)
    assert np.all(hr.start % 30 == 0) and np.mean(gaps == 30) > 0.99
    assert np.all(hr.value == np.round(hr.value))
    charging = (gaps >= 3600) & (gaps <= 2 * 3600)
    assert 10 <= charging.sum() <= 14
    per_day = np.bincount(hr.local_day - hr.local_day.min(), minlength=14) * 30 / 3600
    assert np.median(per_day) > 21.5


def test_heart_rate_is_lower_at_3am_than_at_3pm_local(rows: list[tuple]) -> None:
    hr = cols(rows, "heart_rate")
    hour = hr.local_hour.astype(int)
    night, afternoon = hr.value[hour == 3].mean(), hr.value[hour == 15].mean()
    assert night < PERSON.resting_hr < afternoon
    assert afternoon - night > 10


def test_workouts_push_heart_rate_above_125_on_3_to_5_days_each_week(
    rows: list[tuple],
) -> None:
    hr = cols(rows, "heart_rate")
    hard_minutes = np.bincount(hr.local_day - DAY0, weights=hr.value >= 125, minlength=DAYS)
    workout_day = hard_minutes >= 20
    per_week = workout_day.reshape(-1, 7).sum(axis=1)  # the window starts on a Monday
    assert np.all((per_week >= 3) & (per_week <= 5))
    assert hr.value.max() >= 130


def test_weekdays_have_commute_peaks_and_weekends_long_walks(rows: list[tuple]) -> None:
    steps = cols(rows, "steps", "Apple Watch")
    weekend = weekday(steps.local_day) >= 5
    hour = steps.local_hour
    commute = ((hour >= 7) & (hour < 9)) | ((hour >= 17) & (hour < 19.5))
    weekday_share = steps.value[~weekend & commute].sum() / steps.value[~weekend].sum()
    weekend_share = steps.value[weekend & commute].sum() / steps.value[weekend].sum()
    assert weekday_share > weekend_share + 0.15
    # Samples that touch form one walk; the day's longest walk is longer at weekends.
    breaks = np.flatnonzero(steps.start[1:] != steps.end[:-1]) + 1
    first, last = np.append(0, breaks), np.append(breaks - 1, len(steps.start) - 1)
    longest = np.zeros(DAYS)
    np.maximum.at(longest, steps.local_day[first] - DAY0, steps.end[last] - steps.start[first])
    day_is_weekend = weekday(np.arange(DAYS) + DAY0) >= 5
    assert longest[day_is_weekend].mean() > 1.5 * longest[~day_is_weekend].mean()
    daily = np.bincount(steps.local_day - DAY0, weights=steps.value, minlength=DAYS)
    phone = cols(rows, "steps", "iPhone")
    daily = np.maximum(daily, np.bincount(phone.local_day - DAY0, weights=phone.value))
    assert np.mean((daily >= 3000) & (daily <= 15000)) >= 0.9


def test_phone_and_watch_both_count_the_same_walks_the_watch_a_bit_more(
    rows: list[tuple],
) -> None:
    watch, phone = cols(rows, "steps", "Apple Watch"), cols(rows, "steps", "iPhone")

    def overlapped(a: Cols, b: Cols) -> np.ndarray:
        return np.array([np.any((b.start < e) & (b.end > s)) for s, e in zip(
            a.start, a.end, strict=True)])

    shared = overlapped(phone, watch)
    assert len(set(phone.local_day[shared])) >= 0.9 * DAYS
    # Each device also misses walks the other caught (desk drawer; charger).
    assert not shared.all() and not overlapped(watch, phone).all()
    assert 1.0 < watch.value.sum() / phone.value.sum() < 1.5
    for source in ("Apple Watch", "iPhone"):  # device batches, not one sample per walk
        steps = cols(rows, "steps", source)
        minutes = (steps.end - steps.start) / 60
        assert np.median(minutes) >= 1 and np.quantile(minutes, 0.9) <= 10
        km = cols(rows, "distance", source)
        assert np.array_equal(km.start, steps.start)
        assert 0.5 < km.value.sum() / steps.value.sum() * 1000 < 1.0  # metres per step


def test_each_night_is_a_whole_hypnogram_inside_one_in_bed_interval(
    rows: list[tuple],
) -> None:
    bed = cols(rows, "sleep_stage", "iPhone")
    stages = cols(rows, "sleep_stage", "Apple Watch")
    assert set(bed.value) == {0} and 0 not in set(stages.value)
    # The window's last night is not over yet; the one before it counts if it began after
    # midnight.
    assert DAYS - 1 <= len(bed.start) <= DAYS
    assert np.all(stages.start[1:] >= stages.end[:-1])  # contiguous, never overlapping
    onsets, deep_early, rem_late = [], [], []
    for lo, hi, offset in zip(bed.start, bed.end, bed.offset, strict=True):
        inside = (stages.start >= lo) & (stages.end <= hi)
        night = Cols(*(c[inside] for c in stages))
        assert np.array_equal(night.start[1:], night.end[:-1])
        assert 10 * 60 <= night.start[0] - lo <= 30 * 60 and night.end[-1] < hi
        asleep = night.value != 2
        hours = (night.end - night.start)[asleep].sum() / 3600
        assert 5.9 <= hours <= 8.5
        middle = (night.start[0] + night.end[-1]) / 2
        first_half = np.minimum(night.end, middle) - np.minimum(night.start, middle)
        length = night.end - night.start
        deep, rem = night.value == 4, night.value == 5
        deep_early.append(first_half[deep].sum() / length[deep].sum())
        rem_late.append(1 - first_half[rem].sum() / length[rem].sum())
        onsets.append(((night.start[0] + offset * 60) / 3600 - 12) % 24 + 12)  # from noon
    owner = np.searchsorted(bed.start, stages.start, "right") - 1
    assert np.all(owner >= 0) and np.all(stages.end <= bed.end[owner])  # no stray stages
    assert np.mean(deep_early) > 0.7 and np.mean(rem_late) > 0.6
    assert np.all((np.array(onsets) >= 21.5) & (np.array(onsets) <= 26))
    evening = weekday((bed.start + bed.offset * 60 - 12 * 3600) // 86400)
    weekend_night = (evening == 4) | (evening == 5)  # Friday and Saturday nights
    onsets_h = np.array(onsets)
    assert onsets_h[weekend_night].mean() > onsets_h[~weekend_night].mean() + 0.25


def test_weigh_ins_follow_the_trend_with_bmi_and_body_fat_on_the_same_reading() -> None:
    person = replace(PERSON, weight_trend_kg_per_year=-6.0)
    rows = rows_of(person, days=180, hr_interval_s=3600)
    mass, bmi, fat = (cols(rows, m, "Withings Body+") for m in ("body_mass", "bmi", "body_fat"))
    assert 0.85 * 180 <= len(mass.start) <= 0.95 * 180
    assert np.array_equal(mass.start, bmi.start) and np.array_equal(mass.start, fat.start)
    assert np.allclose(bmi.value, mass.value / person.height_m**2, atol=0.06)
    assert np.all((mass.local_hour > 5) & (mass.local_hour < 11))
    slope_per_year = np.polyfit(mass.start / (365.25 * 86400), mass.value, 1)[0]
    assert -8 < slope_per_year < -4
    assert np.abs(np.diff(mass.value)).max() < 1.5


def test_blood_pressure_comes_in_pairs_3_to_5_days_a_week(rows: list[tuple]) -> None:
    systolic = cols(rows, "bp_systolic", "Omron M7")
    diastolic = cols(rows, "bp_diastolic", "Omron M7")
    assert np.array_equal(systolic.start, diastolic.start)
    assert np.all(systolic.value - diastolic.value >= 25)
    per_week = np.bincount((np.unique(systolic.local_day) - DAY0) // 7, minlength=DAYS // 7)
    assert np.all((per_week >= 3) & (per_week <= 5))


def test_clinic_has_exactly_one_hypertensive_and_one_diabetic_patient() -> None:
    demo, clinic = demo_profiles(today=END)
    assert demo_profiles(today=END) == (demo, clinic)
    assert len(clinic) == 25 and len({p.name for p in [demo, *clinic]}) == 26
    assert not demo.hypertensive and not demo.diabetic
    high_bp, with_cgm = [], []
    for profile in clinic:
        rows = rows_of(profile, days=14, hr_interval_s=900)
        if cols(rows, "bp_systolic").value.mean() >= 140:
            high_bp.append(profile)
        if len(cols(rows, "blood_glucose", "Dexcom G7").start):
            with_cgm.append(profile)
    assert [p.hypertensive for p in clinic].count(True) == 1
    assert [p.diabetic for p in clinic].count(True) == 1
    assert [p.hypertensive for p in high_bp] == [True]
    assert [p.diabetic for p in with_cgm] == [True]


def test_hypertensive_readings_are_high_and_highest_in_the_morning() -> None:
    rows = rows_of(replace(PERSON, hypertensive=True), hr_interval_s=900)
    systolic, diastolic = cols(rows, "bp_systolic"), cols(rows, "bp_diastolic")
    assert 145 <= systolic.value.mean() <= 165 and 90 <= diastolic.value.mean() <= 102
    morning = systolic.local_hour < 12
    assert systolic.value[morning].mean() > systolic.value[~morning].mean() + 3


def test_diabetic_glucose_every_5_minutes_with_meal_peaks_and_some_lows() -> None:
    rows = rows_of(replace(PERSON, diabetic=True), days=60, hr_interval_s=900)
    glucose = cols(rows, "blood_glucose", "Dexcom G7")
    assert np.mean(np.diff(glucose.start) == 300) > 0.97
    in_range = np.mean((glucose.value >= 70) & (glucose.value <= 180))
    assert 0.55 <= in_range <= 0.72
    assert (glucose.value < 70).any() and (glucose.value > 250).any()
    assert glucose.value.max() <= 320
    hour = glucose.local_hour
    night = glucose.value[(hour >= 1) & (hour < 5)].mean()
    evening = glucose.value[(hour >= 20) & (hour < 22)].mean()
    assert 95 <= night <= 145 and evening > night + 30


def test_demo_trip_switches_offsets_and_the_daily_rhythm_to_the_trip_zone() -> None:
    demo, _ = demo_profiles(today=END)
    (first, last, zone_name), = demo.travel
    zone = ZoneInfo(zone_name)
    rows = rows_of(demo, end=last + timedelta(days=14), days=35, hr_interval_s=300)
    trip_lo, trip_hi = midnight(first, zone), midnight(last + timedelta(days=1))
    starts = np.array([r[1] for r in rows])
    offsets = np.array([r[3] for r in rows])
    during = (starts >= trip_lo) & (starts < trip_hi)
    away, home = offset_min(first, zone), offset_min(first, PARIS)
    assert away != home
    assert during.sum() > 1000 and np.all(offsets[during] == away)
    assert np.all(offsets[~during] == home)
    hr = cols(rows, "heart_rate")
    on_trip = (hr.start >= trip_lo) & (hr.start < trip_hi)
    hour = hr.local_hour.astype(int)
    assert hr.value[on_trip & (hour == 3)].mean() < hr.value[on_trip & (hour == 15)].mean() - 10


def test_offsets_change_at_the_paris_dst_switch() -> None:
    rows = rows_of(end=date(2025, 4, 10), days=21, hr_interval_s=600)
    switch = int(datetime(2025, 3, 30, 1, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    starts = np.array([r[1] for r in rows])
    offsets = np.array([r[3] for r in rows])
    assert np.array_equal(offsets, np.where(starts >= switch, 120, 60))
    assert (starts < switch).sum() > 1000 and (starts >= switch).sum() > 1000
    for ts, offset in zip(starts[::97].tolist(), offsets[::97].tolist(), strict=True):
        assert datetime.fromtimestamp(ts, PARIS).utcoffset() == timedelta(minutes=offset)


@pytest.mark.parametrize("kwargs", [{"days": 0}, {"hr_interval_s": 0}, {"chunk_days": 0}])
def test_invalid_arguments_are_rejected_before_any_work(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        generate(PERSON, 1, END, **{"days": 7, **kwargs})
