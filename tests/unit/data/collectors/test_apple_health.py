"""What the Apple Health parser finds in real and generated exports: counts, values in
canonical units, blood pressure once, sleep stages, offsets, workouts, rings, sources."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from data import catalog
from data.collectors.apple_health import parse
from tests.unit.data.collectors.conftest import (
    MODERN,
    OLD,
    Generated,
    Parsed,
    record,
    run,
    write_export,
    write_zip,
)


def top_level_counts(xml: bytes) -> Counter[str]:
    """Top-level Record elements per type, the way xml.etree sees the file."""
    root = ET.fromstring(xml)
    return Counter(r.get("type") for r in root.findall("Record"))


def ts(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").timestamp())


# --- the real fixtures -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["export.xml", "export.zip"])
def test_modern_export_counts_every_record_as_etree_does(name: str) -> None:
    parsed = run(MODERN / name)
    expected = top_level_counts((MODERN / "export.xml").read_bytes())
    found = {t: c.parsed + c.not_understood for t, c in parsed.report.types.items()}
    assert found == dict(expected)
    assert parsed.report.types["HKQuantityTypeIdentifierHeartRate"].parsed == 2
    # Exercise and stand minutes are not in the catalogue: reported by name, not dropped.
    assert parsed.report.types["HKQuantityTypeIdentifierAppleStandTime"].not_understood == 1
    assert parsed.batches[-1].records_done == sum(expected.values())
    assert parsed.report.locale == "en_NL"
    assert parsed.report.damage is None and parsed.report.warnings == []


def test_modern_export_heart_rate_sleep_and_time_zone_records() -> None:
    parsed = run(MODERN / "export.zip")
    watch, phone = "Alexandre's Apple Watch", "Alexandre's iPhone"
    assert parsed.metric("heart_rate") == [
        ("heart_rate", ts("2024-01-01 01:01:36 +0200"), ts("2024-01-01 01:01:36 +0200"), 120,
         74.0, watch),
        ("heart_rate", ts("2024-01-01 01:01:37 +0200"), ts("2024-01-01 01:01:37 +0200"), 120,
         75.0, watch),
    ]
    # The sleep records carry HKTimeZone metadata; their own offset is what is stored.
    assert parsed.metric("sleep_stage") == [
        ("sleep_stage", ts("2024-01-01 00:55:28 +0200"), ts("2024-01-01 00:56:53 +0200"), 120,
         0.0, phone),
        ("sleep_stage", ts("2024-01-01 03:27:53 +0200"), ts("2024-01-01 03:40:23 +0200"), 120,
         3.0, watch),
    ]
    assert [r[4] for r in parsed.metric("active_energy")] == [0.12, 0.08]
    assert parsed.kinds == {watch: "watch", phone: "phone"}
    assert parsed.report.sources[watch] == (
        "Apple Watch by Apple Inc. (model Watch, hardware Watch6,7)")
    assert parsed.report.sources[phone] == ""  # no device string on its records


def test_old_export_workout_with_inline_locations_and_rings() -> None:
    parsed = run(OLD / "export.xml")
    assert parsed.report.export_version is None  # no DTD in this old file
    [workout] = parsed.workouts
    assert workout.activity == "HKWorkoutActivityTypeRunning"
    assert (workout.start_ts, workout.end_ts) == (ts("2016-11-14 07:25:41 -0700"),
                                                  ts("2016-11-14 07:30:52 -0700"))
    assert workout.utc_offset_min == -420
    assert workout.duration_s == pytest.approx(5.19412346680959 * 60)
    assert workout.distance_km == pytest.approx(0.4971749504535062 * 1.609344)
    assert workout.energy_kcal == pytest.approx(48.745)
    assert workout.route == [
        (ts("2016-11-14 07:25:44 -0700"), 37.7777, -122.426, 21.2694),
        (ts("2016-11-14 07:25:44 -0700"), 37.7777, -122.426, 21.2677),
    ]
    assert [(s.day, s.values) for s in parsed.summaries] == [
        ("2016-11-15", {"active_energy_kcal": 590.252, "active_energy_goal_kcal": 630.0,
                        "exercise_min": 68.0, "exercise_goal_min": 30.0,
                        "stand_hours": 13.0, "stand_goal_hours": 12.0}),
        ("2016-11-16", {"active_energy_kcal": 323.513, "active_energy_goal_kcal": 630.0,
                        "exercise_min": 39.0, "exercise_goal_min": 30.0,
                        "stand_hours": 9.0, "stand_goal_hours": 12.0}),
    ]
    assert parsed.metric("bmi") == [("bmi", ts("2016-04-18 08:25:32 -0700"),
                                     ts("2016-04-18 08:25:32 -0700"), -420, 22.5312,
                                     "Health Mate")]
    assert parsed.kinds == {"Health Mate": "scale", "Apple Watch": "watch"}


def test_zip_finds_export_xml_ignores_cda_and_reads_the_gpx_route(tmp_path: Path) -> None:
    unpacked = OLD / "zip_contents" / "apple_health_export"
    gpx = unpacked / "workout-routes" / "route_2019-06-11_3.00pm.gpx"
    path = write_zip(tmp_path / "export.zip", {
        # The CDA file sorts first and is not well-formed, like Apple's: never parsed.
        "apple_health_export/export_cda.xml": b"<ClinicalDocument/><junk/>",
        "apple_health_export/export.xml": (unpacked / "export.xml").read_bytes(),
        "apple_health_export/workout-routes/" + gpx.name: gpx.read_bytes(),
        "__MACOSX/apple_health_export/._export.xml": b"\x00\x05\x16\x07 resource fork",
    })
    parsed = run(path)
    assert parsed.report.damage is None and parsed.report.warnings == []
    [workout] = parsed.workouts
    assert workout.route[0] == (1560290442, 37.781672, -122.396397, 4.076904)
    assert len(workout.route) == 3
    # Unzipped, the route is found next to export.xml as well.
    assert run(unpacked / "export.xml").workouts[0].route == workout.route


@pytest.mark.parametrize("members, chosen", [
    (["apple_health_export/Export.xml"], "apple_health_export/Export.xml"),
    (["apple_health_export/导出.xml"], "apple_health_export/导出.xml"),
    (["apple_health_export/Exportação.xml", "apple_health_export/export_cda.xml"],
     "apple_health_export/Exportação.xml"),
    (["export.xml", "apple_health_export/export.xml"], "apple_health_export/export.xml"),
])
def test_main_xml_is_found_by_name(tmp_path: Path, members: list[str], chosen: str) -> None:
    xml = (MODERN / "export.xml").read_bytes()
    path = write_zip(tmp_path / "e.zip", dict.fromkeys(members, xml))
    from data.collectors.apple_health import open_export

    with open_export(path) as source:
        assert source.member == chosen


# --- a generated export against its ground truth --------------------------------------


def by_start(rows: list[tuple]) -> list[tuple[int, float]]:
    return sorted((r[1], r[4]) for r in rows)


def test_generated_counts_match_the_truth(generated: Generated,
                                          generated_parsed: Parsed) -> None:
    truth, report = generated.truth, generated_parsed.report
    assert generated_parsed.batches[-1].records_done == truth.total_records
    found = {t: c.parsed + c.not_understood for t, c in report.types.items()}
    assert found == truth.records_by_type
    assert report.types["HKDataTypeSleepDurationGoal"].not_understood > 0
    assert report.types["HKQuantityTypeIdentifierHeartRate"].parsed == truth.heart_rate_count
    assert report.damage is None and report.warnings == []
    assert report.export_version == 13
    assert len(generated_parsed.workouts) == truth.workouts
    assert len(generated_parsed.summaries) == truth.activity_summaries
    assert set(report.sources) <= truth.sources
    assert {r[3] for r in generated_parsed.rows} == truth.offsets_seen


def test_blood_pressure_is_produced_once_per_reading(generated: Generated,
                                                     generated_parsed: Parsed) -> None:
    systolic = dict(by_start(generated_parsed.metric("bp_systolic")))
    diastolic = dict(by_start(generated_parsed.metric("bp_diastolic")))
    assert len(generated_parsed.metric("bp_systolic")) == len(generated.truth.bp_readings)
    assert sorted((t, systolic[t], diastolic[t]) for t in systolic) == sorted(
        generated.truth.bp_readings)
    assert generated_parsed.kinds["OMRON connect"] == "bp_cuff"


@pytest.mark.parametrize("code, field", [
    ("body_mass", "body_mass_kg"),  # kg and lb
    ("blood_glucose", "glucose_mg_dl"),  # mg/dL and mmol<180.1558800000541>/L
    ("spo2", "spo2_percent"),  # HealthKit's "%" is a fraction
])
def test_converted_values_match_the_truth(generated: Generated, generated_parsed: Parsed,
                                          code: str, field: str) -> None:
    found = by_start(generated_parsed.metric(code))
    expected = sorted(getattr(generated.truth, field))
    assert [t for t, _ in found] == [t for t, _ in expected]
    for (_, ours), (_, theirs) in zip(found, expected, strict=True):
        assert ours == pytest.approx(theirs, rel=1e-9)


def watch_first_daily(parsed: Parsed, code: str) -> dict[str, float]:
    """Daily totals the way the truth counts them: per minute, the watch wins."""
    shares: dict[bool, defaultdict[int, float]] = {True: defaultdict(float),
                                                   False: defaultdict(float)}
    offset_of: dict[int, int] = {}
    for _, start, end, offset, value, source in parsed.metric(code):
        first = start // 60
        count = max(1, -(-end // 60) - first)
        for minute in range(first, first + count):
            shares[parsed.kinds[source] == "watch"][minute] += value / count
            offset_of.setdefault(minute, offset)
    daily: defaultdict[str, float] = defaultdict(float)
    for minute, value in [*shares[True].items(),
                          *((m, v) for m, v in shares[False].items() if m not in shares[True])]:
        local = datetime.fromtimestamp(minute * 60 + offset_of[minute] * 60, UTC)
        daily[local.date().isoformat()] += value
    return dict(daily)


@pytest.mark.parametrize("code, field", [
    ("steps", "daily_steps"),
    ("distance", "daily_distance_km"),  # km and mi
    ("active_energy", "daily_active_energy_kcal"),  # kcal, Cal and kJ
])
def test_daily_totals_match_the_truth(generated: Generated, generated_parsed: Parsed,
                                      code: str, field: str) -> None:
    expected = getattr(generated.truth, field)
    found = watch_first_daily(generated_parsed, code)
    assert found.keys() == expected.keys()
    for day, value in expected.items():
        assert found[day] == pytest.approx(value, rel=1e-9, abs=1e-6), day


def test_sleep_stages_keep_in_bed_apart(generated: Generated,
                                        generated_parsed: Parsed) -> None:
    asleep: defaultdict[str, float] = defaultdict(float)
    in_bed: defaultdict[str, float] = defaultdict(float)
    stages = Counter()
    for _, start, end, offset, stage, source in generated_parsed.metric("sleep_stage"):
        stages[stage] += 1
        # Night by the morning it ends: local end time plus 12 h lands on that date.
        night = datetime.fromtimestamp(end + offset * 60 + 12 * 3600, UTC).date().isoformat()
        if stage == 0:
            assert generated_parsed.kinds[source] == "phone"
            in_bed[night] += (end - start) / 60
        elif stage in catalog.ASLEEP_STAGES:
            asleep[night] += (end - start) / 60
    assert set(stages) <= {0.0, 1.0, 2.0, 3.0, 4.0, 5.0} and {0.0, 3.0, 4.0, 5.0} <= set(stages)
    assert dict(in_bed) == pytest.approx(generated.truth.sleep_in_bed_minutes)
    assert dict(asleep) == pytest.approx(generated.truth.sleep_asleep_minutes)


def test_workouts_carry_statistics_events_and_gpx_routes(generated_parsed: Parsed) -> None:
    workouts = generated_parsed.workouts
    routed = [w for w in workouts if w.route]
    assert routed, "the generator writes GPX routes for outdoor workouts"
    for workout in workouts:
        assert workout.source == "Anna’s Apple Watch"
        assert workout.start_ts <= workout.end_ts and workout.duration_s
        assert workout.stats["HKQuantityTypeIdentifierHeartRate"].keys() == {
            "average", "minimum", "maximum"}
        assert workout.energy_kcal == workout.stats[
            "HKQuantityTypeIdentifierActiveEnergyBurned"]["sum"]
        assert any(kind == "HKWorkoutEventTypeSegment" for kind, _ in workout.events)
    for workout in routed:
        times = [p[0] for p in workout.route]
        assert times == sorted(times)
        assert workout.start_ts - 60 <= times[0] and times[-1] <= workout.end_ts + 60
        assert all(math.isfinite(lat) and math.isfinite(lon) for _, lat, lon, _ in workout.route)
    running = [w for w in routed if w.activity == "HKWorkoutActivityTypeRunning"]
    assert running and all(w.distance_km == w.stats[
        "HKQuantityTypeIdentifierDistanceWalkingRunning"]["sum"] for w in running)


# --- hand-written records ------------------------------------------------------------


def test_units_are_converted_to_the_catalogue(tmp_path: Path) -> None:
    at = "2024-03-01 08:00:00 +0100"
    body = "".join([
        record("HKQuantityTypeIdentifierBodyTemperature", "98.6", at, unit="degF"),
        record("HKQuantityTypeIdentifierBodyMass", "11", at, unit="st"),
        record("HKQuantityTypeIdentifierBodyFatPercentage", "0.215", at, unit="%"),
        record("HKQuantityTypeIdentifierVO2Max", "41.5", at, unit="mL/min·kg"),
        record("HKQuantityTypeIdentifierDistanceWalkingRunning", "850", at, unit="m"),
        record("HKQuantityTypeIdentifierActiveEnergyBurned", "418.4", at, unit="kJ"),
        record("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "48.5", at, unit="ms"),
    ])
    parsed = run(write_export(tmp_path / "export.xml", body))
    values = {r[0]: r[4] for r in parsed.rows}
    assert values == pytest.approx({
        "body_temperature": 37.0, "body_mass": 11 * 6.35029318, "body_fat": 21.5,
        "vo2max": 41.5, "distance": 0.85, "active_energy": 100.0, "hrv_sdnn": 48.5,
    })


def test_unknown_units_and_bad_values_are_counted_and_located(tmp_path: Path) -> None:
    at = "2024-03-01 08:00:00 +0100"
    body = "".join([
        record("HKQuantityTypeIdentifierHeartRate", "61", at, unit="count/min"),
        record("HKQuantityTypeIdentifierBodyMass", "70", at, unit="furlong"),
        record("HKQuantityTypeIdentifierBodyMass", "71", at, unit="furlong"),
        record("HKQuantityTypeIdentifierHeartRate", "sixty", at, unit="count/min"),
        record("HKQuantityTypeIdentifierHeartRate", "nan", at, unit="count/min"),
        record("HKQuantityTypeIdentifierOxygenSaturation", "0,97", at, unit="%"),
        record("HKQuantityTypeIdentifierHeartRate", "62", "2024-03-01T08:00:00+01:00",
               unit="count/min"),
        record("HKQuantityTypeIdentifierHeartRate", "63", "yesterday", unit="count/min"),
        record("HKCategoryTypeIdentifierMindfulSession", "HKCategoryValueNotApplicable", at,
               unit=None),
    ])
    parsed = run(write_export(tmp_path / "export.xml", body))
    types = parsed.report.types
    assert (types["HKQuantityTypeIdentifierBodyMass"].parsed,
            types["HKQuantityTypeIdentifierBodyMass"].not_understood) == (0, 2)
    assert (types["HKQuantityTypeIdentifierHeartRate"].parsed,
            types["HKQuantityTypeIdentifierHeartRate"].not_understood) == (2, 3)
    assert types["HKCategoryTypeIdentifierMindfulSession"].not_understood == 1
    assert [r[4] for r in parsed.metric("heart_rate")] == [61.0, 62.0]
    assert parsed.metric("spo2")[0][4] == pytest.approx(97.0)  # decimal comma tolerated
    warnings = parsed.report.warnings
    assert len(warnings) == 4  # one per unit, one per bad record; unknown types are silent
    assert warnings[0].startswith("line 12: HKQuantityTypeIdentifierBodyMass in unit 'furlong'")
    assert warnings[1].startswith("line 14:") and "'sixty'" in warnings[1]
    assert warnings[2].startswith("line 18:") and "date" in warnings[2]
    # NaN is caught per chunk (it never occurs in real exports), so its line is the
    # chunk's end: here the end of the file.
    assert warnings[3] == (
        "line 21: a HKQuantityTypeIdentifierHeartRate record in the lines before this one "
        "has a value that is not a finite number (nan); it was skipped")


def test_sleep_values_map_to_healthkit_stages(tmp_path: Path) -> None:
    names = ["InBed", "AsleepUnspecified", "Asleep", "Awake", "AsleepCore", "AsleepDeep",
             "AsleepREM", "Dreaming"]
    body = "".join(
        record("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysis" + name,
               f"2024-03-0{i + 1} 23:00:00 +0100", f"2024-03-0{i + 2} 06:30:00 +0100",
               unit=None)
        for i, name in enumerate(names))
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert [r[4] for r in parsed.rows] == [0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(r[2] - r[1] == 7.5 * 3600 for r in parsed.rows)
    assert parsed.report.types["HKCategoryTypeIdentifierSleepAnalysis"].not_understood == 1


def test_offsets_follow_each_record_across_dst_and_travel(tmp_path: Path) -> None:
    hr = "HKQuantityTypeIdentifierHeartRate"
    stamps = [
        "2024-10-27 02:30:00 +0200",  # Paris, before the clocks go back ...
        "2024-10-27 02:10:00 +0100",  # ... the same wall-clock hour again, an hour later
        "2024-10-27 02:40:00 +0100",
        "2024-10-28 07:00:00 -0400",  # New York
        "2024-10-28 07:00:00 +0530",  # Delhi
        "2024-10-28 07:00:00 -0930",
    ]
    body = "".join(record(hr, "60", s, unit="count/min") for s in stamps)
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert [(r[1], r[3]) for r in parsed.rows] == [
        (ts(s), int(s[-5] + "1") * (int(s[-4:-2]) * 60 + int(s[-2:]))) for s in stamps]
    interval = record("HKQuantityTypeIdentifierStepCount", "120", "2024-10-27 02:55:00 +0200",
                      "2024-10-27 02:05:00 +0100")
    [row] = run(write_export(tmp_path / "dst.xml", interval)).rows
    assert (row[2] - row[1], row[3]) == (600, 120)  # the offset of the start is stored


def test_source_kinds_from_devices_and_names(tmp_path: Path) -> None:
    at = "2024-03-01 08:00:00 +0100"
    body = "".join([
        record("HKQuantityTypeIdentifierHeartRate", "60", at, unit="count/min"),
        record("HKQuantityTypeIdentifierStepCount", "10", at, source="Anna’s iPhone",
               device="&lt;&lt;HKDevice: 0x1&gt;, name:iPhone, manufacturer:Apple Inc., "
                      "model:iPhone, hardware:iPhone15,2, software:17.1&gt;"),
        record("HKQuantityTypeIdentifierBodyMass", "70", at, unit="kg", source="Withings",
               device=None),
        record("HKQuantityTypeIdentifierBloodGlucose", "101", at, unit="mg/dL",
               source="Dexcom G7", device=None),
        record("HKQuantityTypeIdentifierRespiratoryRate", "14", at, unit="count/min",
               source="SleepWatch Pro App", device=None),
        record("HKQuantityTypeIdentifierStepCount", "5", at, source="Pedometer++",
               device=None),
    ])
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert parsed.kinds == {
        "Anna’s Apple Watch": "watch", "Anna’s iPhone": "phone", "Withings": "scale",
        # Whole words only: SleepWatch is a phone app, not a watch.
        "Dexcom G7": "cgm", "SleepWatch Pro App": "app", "Pedometer++": "app",
    }
    # The model is left out where it only repeats the name.
    assert parsed.report.sources["Anna’s iPhone"] == "iPhone by Apple Inc. (hardware iPhone15,2)"


def test_parse_does_not_need_a_fresh_source(tmp_path: Path) -> None:
    """The import job may parse the same opened export twice (e.g. a dry run first)."""
    from data.collectors.apple_health import Report, open_export

    with open_export(MODERN / "export.zip") as source:
        first = [r for b in parse(source, Report()) for r in b.rows]
        second = [r for b in parse(source, Report()) for r in b.rows]
    assert first == second and len(first) == 6
    assert zipfile.is_zipfile(MODERN / "export.zip")


def test_records_that_end_before_they_start_are_refused(tmp_path: Path) -> None:
    steps = "HKQuantityTypeIdentifierStepCount"
    body = "".join([
        record(steps, "10", "2024-03-01 08:00:00 +0100", "2024-03-01 08:05:00 +0100"),
        record(steps, "11", "2024-03-01 08:06:00 +0100", "2024-03-01 08:05:00 +0100"),
        record(steps, "12", "2024-03-01 09:00:00 +0100", "2024-03-01 08:59:59 +0100"),
        record(steps, "13", "2024-03-01 09:00:00 +0100", "2024-03-01 08:00:00 +0000"),
    ])
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert [r[4] for r in parsed.rows] == [10.0, 13.0]  # 08:00 UTC is after 08:00 +0100
    assert parsed.report.types[steps].not_understood == 2
    assert [w[:8] for w in parsed.report.warnings] == ["line 12:", "line 13:"]
    assert all("ends before it starts" in w for w in parsed.report.warnings)
