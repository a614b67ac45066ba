"""Repository behaviour on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from data.access import AccessDenied, Principal
from data.queries import SeriesQuery
from data.repository import ObservationBatch, Repository
from data.schema import observations

PARIS = ZoneInfo("Europe/Paris")
SYSTEM = Principal.system()
KINDS = {"Apple Watch": "watch", "iPhone": "phone", "Scale": "scale"}


def ts(text: str, zone: ZoneInfo = PARIS) -> int:
    """UTC epoch seconds of a wall-clock time in a zone."""
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp())


def off(text: str, zone: ZoneInfo = PARIS) -> int:
    """UTC offset in minutes of a wall-clock time in a zone."""
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).utcoffset().total_seconds() // 60)


def reading(metric: str, when: str, value: float, source: str = "Apple Watch",
            minutes: int = 0) -> tuple:
    start = ts(when)
    return (metric, start, start + minutes * 60, off(when), value, source)


def count(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(observations)).scalar_one()


@pytest.fixture
def patient(repo: Repository) -> int:
    return repo.create_patient("Ada Example", "Europe/Paris")


def test_same_batch_twice_stores_it_once(repo, patient):
    batch = ObservationBatch(patient, [reading("heart_rate", f"2025-03-01 10:{m:02d}", 60 + m)
                                       for m in range(30)], KINDS)
    first = repo.upsert_observations(batch)
    version = repo.data_version(patient)
    second = repo.upsert_observations(batch)
    assert (first.inserted, second.inserted, second.duplicates) == (30, 0, 30)
    assert count(repo) == 30
    assert repo.data_version(patient) == version, "a no-op import must not invalidate caches"


def test_a_bad_row_stores_nothing_and_keeps_existing_data(repo, patient):
    repo.upsert_observations(ObservationBatch(patient, [reading("body_mass", "2025-03-01 07:00",
                                                                70.0, "Scale")], KINDS))
    bad = [reading("body_mass", "2025-03-02 07:00", 70.2, "Scale"),
           reading("body_mass", "2025-03-03 07:00", float("nan"), "Scale")]
    with pytest.raises(ValueError, match=r"row 1 \(body_mass\).*not a finite number"):
        repo.upsert_observations(ObservationBatch(patient, bad, KINDS))
    with pytest.raises(ValueError, match="row 0: unknown metric 'weight'"):
        repo.upsert_observations(ObservationBatch(patient, [("weight", 1, 1, 0, 1.0, "x")]))
    assert count(repo) == 1


def test_watch_steps_win_over_iphone_for_the_same_minutes(repo, patient):
    rows = [
        # the same 10-minute walk counted by both devices
        reading("steps", "2025-03-01 08:00", 1000, "Apple Watch", minutes=10),
        reading("steps", "2025-03-01 08:00", 900, "iPhone", minutes=10),
        # the phone alone later (watch charging)
        reading("steps", "2025-03-01 18:00", 500, "iPhone", minutes=5),
    ]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    day = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    assert day.value.tolist() == [pytest.approx(1500)]
    assert day.source == ["Apple Watch"]
    hours = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="hour"))
    assert hours.value.tolist() == [pytest.approx(1000), pytest.approx(500)]
    assert hours.source == ["Apple Watch", "iPhone"]


def test_partly_overlapping_samples_count_each_minute_once(repo, patient):
    rows = [
        reading("steps", "2025-03-01 08:00", 600, "Apple Watch", minutes=10),  # 60/min
        reading("steps", "2025-03-01 08:05", 300, "iPhone", minutes=10),       # 30/min
    ]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    day = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    # 08:00-08:10 from the watch (600) + 08:10-08:15 from the phone (5 x 30)
    assert day.value.tolist() == [pytest.approx(750)]


def test_days_are_local_days_across_dst_and_travel(repo, patient):
    rows = [
        reading("body_mass", "2025-03-29 23:30", 70.0, "Scale"),  # UTC+1: still the 29th
        reading("body_mass", "2025-03-30 23:30", 71.0, "Scale"),  # UTC+2 after the DST change
        # in New York: 21:00 local on 1 April is already 2 April in Paris and in UTC
        ("body_mass", ts("2025-04-01 21:00", ZoneInfo("America/New_York")),
         ts("2025-04-01 21:00", ZoneInfo("America/New_York")), -240, 72.0, "Scale"),
    ]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    day = repo.series(SYSTEM, SeriesQuery(patient, "body_mass", resolution="day"))
    local_days = [datetime.utcfromtimestamp(int(t)).date().isoformat() for t in day.t_local]
    assert local_days == ["2025-03-29", "2025-03-30", "2025-04-01"]
    assert day.value.tolist() == [70.0, 71.0, 72.0]


def test_sleep_never_adds_in_bed_and_belongs_to_the_morning_it_ends(repo, patient):
    rows = [
        reading("sleep_stage", "2025-03-01 22:30", 0, "iPhone", minutes=9 * 60),  # in bed
        reading("sleep_stage", "2025-03-01 23:00", 3, "Apple Watch", minutes=240),  # core
        reading("sleep_stage", "2025-03-02 03:00", 4, "Apple Watch", minutes=60),   # deep
        reading("sleep_stage", "2025-03-02 04:00", 2, "Apple Watch", minutes=30),   # awake
        reading("sleep_stage", "2025-03-02 04:30", 5, "Apple Watch", minutes=120),  # REM
    ]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    nights = repo.sleep_nights(SYSTEM, patient, None, None)
    assert [datetime.utcfromtimestamp(int(n)).date().isoformat() for n in nights.nights] == [
        "2025-03-02"
    ]
    assert {k: v.tolist() for k, v in nights.minutes.items()} == {
        0: [540.0], 2: [30.0], 3: [240.0], 4: [60.0], 5: [120.0]
    }
    asleep = repo.series(SYSTEM, SeriesQuery(patient, "sleep_stage"))
    assert asleep.value.tolist() == [420.0]  # core + deep + REM; never in-bed, never awake


def _minute_heart_rate(patient: int, days: int) -> ObservationBatch:
    start = ts("2025-01-01 00:00")
    rows = [("heart_rate", start + i * 60, start + i * 60, 60, 60.0 + (i % 90), "Apple Watch")
            for i in range(days * 1440)]
    return ObservationBatch(patient, rows, KINDS)


def test_series_resolution_follows_the_range_and_never_exceeds_max_points(repo, patient):
    repo.upsert_observations(_minute_heart_rate(patient, 40))
    day_start = ts("2025-01-10 00:00")
    raw = repo.series(SYSTEM, SeriesQuery(patient, "heart_rate", day_start, day_start + 86400))
    assert (raw.resolution, len(raw)) == ("raw", 1440)
    month = repo.series(SYSTEM, SeriesQuery(patient, "heart_rate", day_start,
                                            day_start + 30 * 86400))
    assert month.resolution == "hour" and len(month) == 720
    assert (month.low <= month.value).all() and (month.value <= month.high).all()
    assert month.low.min() == 60 and month.high.max() == 149
    small = repo.series(SYSTEM, SeriesQuery(patient, "heart_rate", day_start,
                                            day_start + 86400, max_points=100))
    # 1,440 raw rows are too many for 100 points: hourly buckets keep the extremes
    assert small.resolution == "hour" and len(small) <= 100
    assert small.high.max() == 149 and small.low.min() == 60
    capped = repo.series(SYSTEM, SeriesQuery(patient, "heart_rate", day_start,
                                             day_start + 86400, max_points=100,
                                             resolution="raw"))
    assert len(capped) == 100 and capped.value.max() == 149 and capped.value.min() == 60


def test_a_later_import_refreshes_the_rollups_of_the_days_it_touches(repo, patient):
    repo.upsert_observations(ObservationBatch(
        patient, [reading("steps", "2025-03-01 08:00", 100, "iPhone", minutes=1)], KINDS))
    before = repo.data_version(patient)
    repo.upsert_observations(ObservationBatch(
        patient, [reading("steps", "2025-03-01 09:00", 50, "iPhone", minutes=1)], KINDS))
    assert repo.data_version(patient) > before
    day = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    assert day.value.tolist() == [pytest.approx(150)]


def test_access_follows_role_and_care_team(repo, patient):
    other = repo.create_patient("Ben Example", "UTC")
    repo.upsert_observations(ObservationBatch(
        patient, [reading("heart_rate", "2025-03-01 10:00", 61)], KINDS))
    ada = repo.principal_for(repo.user_by_id(repo.create_user("ada@example.org", "Ada",
                                                              "patient", None)))
    assert ada.patient_id is None  # a patient login without a record sees nothing
    doc = repo.create_user("doc@example.org", "Doc", "clinician", None)
    stranger = repo.create_user("other@example.org", "Other", "clinician", None)
    admin = repo.create_user("admin@example.org", "Admin", "admin", None)
    repo.add_to_care_team(doc, patient)
    query = SeriesQuery(patient, "heart_rate", resolution="raw")
    assert repo.series(Principal(doc, "clinician"), query).value.tolist() == [61.0]
    assert repo.series(Principal(None, "patient", patient), query).value.tolist() == [61.0]
    for who in (Principal(stranger, "clinician"), Principal(admin, "admin"),
                Principal(None, "patient", other), ada):
        with pytest.raises(AccessDenied):
            repo.series(who, query)
    assert [p.name for p in repo.list_patients(Principal(doc, "clinician"))] == ["Ada Example"]
    assert repo.list_patients(Principal(stranger, "clinician")) == []


def test_summaries_compare_the_last_week_with_the_month_before(repo, patient):
    now = ts("2025-03-31 12:00")
    rows = [reading("body_mass", f"2025-03-{d:02d} 07:00", 80.0, "Scale") for d in range(1, 25)]
    rows += [reading("body_mass", f"2025-03-{d:02d} 07:00", 78.0, "Scale") for d in range(25, 32)]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    (card,) = repo.summaries(SYSTEM, patient, ["body_mass"], now=now)
    assert card.latest == 78.0
    assert card.avg_7d == pytest.approx(78.0)
    assert card.avg_prev_30d == pytest.approx(80.0)
    assert card.change == pytest.approx(-2.0)


def test_ranking_the_phone_first_for_steps_changes_which_source_wins(repo, patient):
    rows = [reading("steps", "2025-03-01 08:00", 1000, "Apple Watch", minutes=10),
            reading("steps", "2025-03-01 08:00", 900, "iPhone", minutes=10),
            reading("distance", "2025-03-01 08:00", 0.8, "Apple Watch", minutes=10),
            reading("distance", "2025-03-01 08:00", 0.7, "iPhone", minutes=10)]
    repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    ranked = repo.sources(SYSTEM, patient, "steps")
    assert [name for _id, name, _kind, _p in ranked] == ["Apple Watch", "iPhone"]
    phone = next(i for i, name, *_ in ranked if name == "iPhone")
    watch = next(i for i, name, *_ in ranked if name == "Apple Watch")
    repo.set_metric_priority(SYSTEM, patient, "steps", [phone, watch])
    steps = repo.series(SYSTEM, SeriesQuery(patient, "steps", resolution="day"))
    assert (steps.value.tolist(), steps.source) == ([pytest.approx(900)], ["iPhone"])
    distance = repo.series(SYSTEM, SeriesQuery(patient, "distance", resolution="day"))
    assert distance.source == ["Apple Watch"], "other metrics keep the default ranking"
    with pytest.raises(ValueError, match="unknown sources"):
        repo.set_metric_priority(SYSTEM, patient, "steps", [phone, 999])
