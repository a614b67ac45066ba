"""The Apple Health export generator: archive layout, well-formedness, quirks, ground truth.

The ground truth is checked against a small independent reading of the generated file
(written here, not shared with the generator), so a bug on either side shows up.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bench.applehealth_gen import Truth, generate_export

ROOT = "apple_health_export/"
XML = ROOT + "export.xml"
LB, MILE, KJ, MMOL = 0.45359237, 1.609344, 4.184, 18.01558800000541
DST_AND_TRIP = {"start": date(2024, 3, 27), "trip": (6, 9, "America/New_York")}


def epoch(stamp: str) -> int:
    """Apple's `yyyy-MM-dd HH:mm:ss ±HHMM` as epoch seconds."""
    return int(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z").timestamp())


def without_dtd(data: bytes) -> bytes:
    """What importers do for iOS 16 files: drop the internal DTD and vertical tabs."""
    start = data.index(b"<!DOCTYPE")
    end = data.index(b"]>\n", start) + 3
    return (data[:start] + data[end:]).replace(b"\x0b", b"")


@dataclass
class Reading:
    """The facts a minimal importer takes from the file, independent of the generator."""

    top_level: Counter[str] = field(default_factory=Counter)
    all_records: int = 0
    workouts: int = 0
    summaries: int = 0
    records: list[dict[str, str]] = field(default_factory=list)
    correlations: list[list[dict[str, str]]] = field(default_factory=list)
    route_paths: list[str] = field(default_factory=list)
    offsets: set[int] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


def read(data: bytes) -> Reading:
    """Stream the XML like an importer would, with `iterparse` and a depth counter."""
    reading = Reading()
    depth = 0
    inside: list[dict[str, str]] | None = None
    for event, element in ET.iterparse(io.BytesIO(data), events=("start", "end")):
        if event == "start":
            depth += 1
            attrs = element.attrib
            for key in ("startDate", "endDate", "creationDate", "date"):
                if key in attrs:
                    reading.offsets.add(epoch_offset(attrs[key]))
            if element.tag == "ExportDate":
                reading.offsets.add(epoch_offset(attrs["value"]))
            if "sourceName" in attrs:
                reading.sources.add(attrs["sourceName"])
            if element.tag == "Record":
                reading.all_records += 1
                if depth == 2:
                    reading.top_level[attrs["type"]] += 1
                    reading.records.append(dict(attrs))
                elif inside is not None:
                    inside.append(dict(attrs))
            elif element.tag == "Correlation":
                inside = []
            elif element.tag == "Workout":
                reading.workouts += 1
            elif element.tag == "ActivitySummary":
                reading.summaries += 1
            elif element.tag == "FileReference":
                reading.route_paths.append(attrs["path"])
            continue
        depth -= 1
        if element.tag == "Correlation" and inside is not None:
            reading.correlations.append(inside)
            inside = None
    return reading


def epoch_offset(stamp: str) -> int:
    """The UTC offset of an Apple date string, in minutes."""
    sign = -1 if stamp[-5] == "-" else 1
    return sign * (int(stamp[-4:-2]) * 60 + int(stamp[-2:]))


def minute_rule(records: list[dict[str, str]], rtype: str, to_base: dict[str, float]) -> dict:
    """Daily totals with the watch-first rule, minute by minute, in local dates."""
    shares: dict[bool, dict[int, float]] = {True: defaultdict(float), False: defaultdict(float)}
    local: dict[int, str] = {}
    for rec in records:
        if rec["type"] != rtype:
            continue
        start, end = epoch(rec["startDate"]), epoch(rec["endDate"])
        offset = epoch_offset(rec["startDate"]) * 60
        first, count = start // 60, max(1, -(-end // 60) - start // 60)
        value = float(rec["value"]) * to_base[rec["unit"]]
        is_watch = "Watch" in rec["sourceName"]
        for minute in range(first, first + count):
            shares[is_watch][minute] += value / count
            local[minute] = datetime.fromtimestamp(minute * 60 + offset, UTC).date().isoformat()
    daily: dict[str, float] = defaultdict(float)
    for minute, day in local.items():
        watch = shares[True]
        daily[day] += watch[minute] if minute in watch else shares[False].get(minute, 0.0)
    return daily


def assert_daily(expected: dict[str, float], actual: dict[str, float]) -> None:
    assert sorted(expected) == sorted(actual)
    for day, value in expected.items():
        assert actual[day] == pytest.approx(value, rel=1e-9, abs=1e-6), day


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], Truth, Reading]:
    """About two weeks across the spring DST change, with three days in New York."""
    path = tmp_path_factory.mktemp("ah") / "export.zip"
    truth = generate_export(path, 12_000, seed=7, **DST_AND_TRIP)
    files = members(path)
    return files, truth, read(files[XML])


def test_zip_holds_the_export_the_cda_file_and_a_route_per_outdoor_workout(export) -> None:
    files, truth, reading = export
    assert XML in files and ROOT + "export_cda.xml" in files
    routes = sorted(n for n in files if n.startswith(ROOT + "workout-routes/"))
    assert routes and truth.workouts >= len(routes)
    pattern = re.compile(r"route_\d{4}-\d\d-\d\d_\d{1,2}\.\d\d[ap]m\.gpx")
    assert all(pattern.fullmatch(name.rsplit("/", 1)[1]) for name in routes)
    assert sorted(ROOT + p.lstrip("/") for p in reading.route_paths) == routes
    gpx = ET.fromstring(files[routes[0]])
    points = gpx.findall(".//{http://www.topografix.com/GPX/1/1}trkpt")
    assert len(points) >= 3 and gpx.get("version") == "1.1"
    with pytest.raises(ET.ParseError, match="junk after document element"):
        ET.fromstring(files[ROOT + "export_cda.xml"])


def test_counts_parsed_from_the_file_equal_the_truth(export) -> None:
    _, truth, reading = export
    assert dict(reading.top_level) == truth.records_by_type
    assert reading.all_records == truth.total_records
    assert abs(truth.total_records - 12_000) < 1_500  # "about `records`"
    assert reading.top_level["HKQuantityTypeIdentifierHeartRate"] == truth.heart_rate_count
    assert reading.workouts == truth.workouts > 0
    assert reading.summaries == truth.activity_summaries > 0
    assert reading.sources == truth.sources
    assert reading.offsets == truth.offsets_seen
    for rtype in (
        "HKQuantityTypeIdentifierEnvironmentalAudioExposure",
        "HKDataTypeSleepDurationGoal",
    ):
        assert truth.records_by_type[rtype] > 0


def test_blood_pressure_is_both_in_correlations_and_at_top_level(export) -> None:
    _, truth, reading = export
    pairs = []
    for children in reading.correlations:
        by_type = {c["type"].rsplit("Pressure", 1)[1]: c for c in children}
        pairs.append((epoch(children[0]["startDate"]), by_type["Systolic"], by_type["Diastolic"]))
    assert sorted((t, float(s["value"]), float(d["value"])) for t, s, d in pairs) == sorted(
        truth.bp_readings
    )
    assert any(c[0]["type"].endswith("Diastolic") for c in reading.correlations)  # order varies
    top = {
        (r["type"], r["startDate"], r["value"])
        for r in reading.records
        if r["type"].startswith("HKQuantityTypeIdentifierBloodPressure")
    }
    nested = {(c["type"], c["startDate"], c["value"]) for cs in reading.correlations for c in cs}
    assert top == nested and len(top) == 2 * len(truth.bp_readings)


def test_units_are_mixed_like_real_exports(export) -> None:
    files, _, reading = export
    units: dict[str, set[str]] = defaultdict(set)
    for rec in reading.records:
        units[rec["type"].replace("HKQuantityTypeIdentifier", "")].add(rec.get("unit", ""))
    assert units["BodyMass"] == {"lb", "kg"}
    assert units["DistanceWalkingRunning"] == {"km", "mi"}
    assert units["ActiveEnergyBurned"] == {"kJ", "kcal"}
    assert units["BloodGlucose"] == {"mg/dL", "mmol<180.1558800000541>/L"}
    assert units["OxygenSaturation"] == {"%"}
    raw = files[XML]
    assert b'unit="mmol&lt;180.1558800000541&gt;/L"' in raw
    assert b'device="&lt;&lt;HKDevice: 0x' in raw
    assert b'<InstantaneousBeatsPerMinute bpm="' in raw and re.search(
        rb'time="\d\d:\d\d:\d\d,\d\d"', raw
    )
    assert b'<MetadataEntry key="HKTimeZone" value="America/New_York"/>' in raw
    assert b"<WorkoutStatistics " in raw and b"<WorkoutEvent " in raw


def test_truth_agrees_with_an_independent_reading_of_the_file(export) -> None:
    _, truth, reading = export
    records = reading.records
    assert_daily(
        minute_rule(records, "HKQuantityTypeIdentifierStepCount", {"count": 1}), truth.daily_steps
    )
    assert_daily(
        minute_rule(
            records, "HKQuantityTypeIdentifierDistanceWalkingRunning", {"km": 1, "mi": MILE}
        ),
        truth.daily_distance_km,
    )
    assert_daily(
        minute_rule(
            records, "HKQuantityTypeIdentifierActiveEnergyBurned", {"kcal": 1, "kJ": 1 / KJ}
        ),
        truth.daily_active_energy_kcal,
    )
    conversions = {
        "BodyMass": ({"lb": LB, "kg": 1.0}, truth.body_mass_kg),
        "BloodGlucose": ({"mg/dL": 1.0, "mmol<180.1558800000541>/L": MMOL}, truth.glucose_mg_dl),
        "OxygenSaturation": ({"%": 100.0}, truth.spo2_percent),
    }
    for name, (factor, expected) in conversions.items():
        found = [
            (epoch(r["startDate"]), float(r["value"]) * factor[r["unit"]])
            for r in records
            if r["type"] == "HKQuantityTypeIdentifier" + name
        ]
        assert [t for t, _ in sorted(found)] == [t for t, _ in sorted(expected)]
        assert [v for _, v in sorted(found)] == pytest.approx([v for _, v in sorted(expected)])
    assert min(v for _, v in truth.spo2_percent) > 90


def test_sleep_counts_stages_not_in_bed_nor_awake(export) -> None:
    _, truth, reading = export
    sleep = [r for r in reading.records if r["type"] == "HKCategoryTypeIdentifierSleepAnalysis"]
    nights = [r for r in sleep if r["value"].endswith("InBed")]
    in_bed: dict[str, float] = defaultdict(float)
    asleep: dict[str, float] = defaultdict(float)
    for night in nights:
        lo, hi, key = epoch(night["startDate"]), epoch(night["endDate"]), night["endDate"][:10]
        in_bed[key] += (hi - lo) / 60
        for stage in sleep:
            if stage is not night and lo <= epoch(stage["startDate"]) < hi:
                assert "Watch" in stage["sourceName"] and not stage["value"].endswith("InBed")
                if not stage["value"].endswith("Awake"):
                    asleep[key] += (epoch(stage["endDate"]) - epoch(stage["startDate"])) / 60
    assert in_bed == pytest.approx(truth.sleep_in_bed_minutes)
    assert asleep == pytest.approx(truth.sleep_asleep_minutes)
    assert all(asleep[k] < in_bed[k] for k in in_bed)


def test_offsets_follow_dst_and_the_trip_and_the_file_is_chronological(export) -> None:
    _, truth, reading = export
    assert {60, 120, -240} <= truth.offsets_seen  # CET, CEST, EDT
    starts = [epoch(r["startDate"]) for r in reading.records]
    assert starts == sorted(starts)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def run(name: str, seed: int) -> tuple[bytes, Truth]:
        truth = generate_export(tmp_path / name, 3_000, seed=seed, xml_only=True)
        return (tmp_path / name).read_bytes(), truth

    first, again, other = run("a.xml", 3), run("b.xml", 3), run("c.xml", 4)
    assert first == again
    assert first[0] != other[0]
    assert first[0].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n')
    assert b"<!-- HealthKit Export Version: 13 -->" in first[0]


def test_defaults_give_a_small_well_formed_export(tmp_path: Path) -> None:
    truth = generate_export(tmp_path / "e.zip", 2_000)
    data = members(tmp_path / "e.zip")[XML]
    reading = read(data)
    assert dict(reading.top_level) == truth.records_by_type
    assert truth.offsets_seen == {60}  # January in Paris, the trip starts on day 40
    assert "\x0b" not in data.decode()


def test_broken_dtd_reproduces_the_ios16_export(tmp_path: Path) -> None:
    truth = generate_export(tmp_path / "b.zip", 4_000, broken_dtd=True)
    data = members(tmp_path / "b.zip")[XML]
    assert b"<!-- HealthKit Export Version: 12 -->" in data
    with pytest.raises(ET.ParseError, match=r"syntax error: line \d+, column 0"):
        for _ in ET.iterparse(io.BytesIO(data)):
            pass
    dtd_stripped = data[: data.index(b"<!DOCTYPE")] + data[data.index(b"]>\n") + 3 :]
    with pytest.raises(ET.ParseError, match="not well-formed"):  # the vertical tab
        for _ in ET.iterparse(io.BytesIO(dtd_stripped)):
            pass
    assert data.count(b"\x0b") == 1
    reading = read(without_dtd(data))
    assert dict(reading.top_level) == truth.records_by_type
    assert "Anna’s Apple\x0bWatch" in truth.sources


def test_memory_stays_flat_for_200k_records(tmp_path: Path) -> None:
    script = (
        "import resource, sys\n"
        "from bench.applehealth_gen import generate_export\n"
        "generate_export(sys.argv[1], 2_000)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "truth = generate_export(sys.argv[1], 200_000)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(truth.total_records, after - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m.zip")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    ).stdout.split()
    records, growth_kib = int(out[0]), int(out[1])
    assert records > 180_000
    assert growth_kib < 50 * 1024
