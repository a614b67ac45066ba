"""Files the parser must refuse, survive or half-import: attacks, bombs, broken and cut
exports, and things that are not exports at all."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from data.collectors.apple_health import ExportError, Report, open_export, parse
from data.collectors.apple_health_xml import new_parser
from tests.unit.data.collectors.conftest import (
    HEADER,
    MODERN,
    Generated,
    deflated_zip,
    record,
    run,
    write_export,
    write_zip,
)

HR = "HKQuantityTypeIdentifierHeartRate"
BODY = record(HR, "61", "2024-03-01 08:00:00 +0100", unit="count/min")


def header_with(dtd_extra: str) -> str:
    return HEADER.replace("]>", dtd_extra + "\n]>")


# --- entities and external references -------------------------------------------------


def test_billion_laughs_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    lol = ('<!ENTITY lol "lol">\n<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
           + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10)))
    body = ' <Record type="x" sourceName="&lol9;" startDate="" endDate=""/>\n'
    path = write_export(tmp_path / "export.xml", body, header_with(lol))
    with pytest.raises(ExportError, match=r"declares XML entities \(<!ENTITY lol.*billion laughs"):
        open_export(path)
    zipped = write_zip(tmp_path / "export.zip",
                       {"apple_health_export/export.xml": path.read_bytes()})
    with pytest.raises(ExportError, match=r"export\.zip:apple_health_export/export\.xml declares"):
        open_export(zipped)


@pytest.mark.parametrize("declaration", [
    '<!ENTITY xxe SYSTEM "file:///{secret}">',
    '<!ENTITY % remote SYSTEM "http://127.0.0.1:9/{secret}"> %remote;',
    '<!ENTITY pub PUBLIC "-//X//Y" "file:///{secret}">',
])
def test_external_entities_are_refused_and_nothing_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declaration: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    body = ' <Record type="x" sourceName="&xxe;" startDate="" endDate=""/>\n'
    path = write_export(tmp_path / "export.xml", body,
                        header_with(declaration.format(secret=secret)))
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        opened.append(str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(ExportError, match=r"refers to external XML entities.*XXE"):
        open_export(path)
    assert str(secret) not in opened and opened == [str(path)]


def test_an_external_dtd_is_refused(tmp_path: Path) -> None:
    header = HEADER.replace("<!DOCTYPE HealthData [", '<!DOCTYPE HealthData SYSTEM '
                            '"http://example.invalid/healthkit.dtd" [')
    with pytest.raises(ExportError, match="external XML entities or DTDs"):
        open_export(write_export(tmp_path / "export.xml", BODY, header))


def test_expat_itself_refuses_entities_as_a_second_line_of_defence() -> None:
    """Should a DTD ever reach expat, declaring an entity stops the parse."""
    for doc in (b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
                b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>'):
        with pytest.raises(ExportError, match="refusing"):
            new_parser().Parse(doc, True)


# --- zip bombs -----------------------------------------------------------------------


def test_zip_bomb_is_refused_by_its_declared_ratio(tmp_path: Path) -> None:
    path = deflated_zip(tmp_path / "export.zip", "apple_health_export/export.xml",
                        b"", b"\0", megabytes=1024)
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(ExportError, match=r"times its packed size.*zip bombs"):
        open_export(path)
    with pytest.raises(ExportError, match=r"more than the limit of 1,048,576"):
        open_export(path, max_uncompressed=2**20)


def test_zip_bomb_with_hidden_sizes_is_stopped_while_reading(tmp_path: Path) -> None:
    """No central directory and no sizes in the local header: only the reading limit holds."""
    prefix = b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
    path = deflated_zip(tmp_path / "export.zip", "apple_health_export/export.xml", prefix,
                        b" ", megabytes=1024, declare_sizes=False)
    report = Report()
    with open_export(path) as source, pytest.raises(ExportError, match="zip bombs"):
        for _ in parse(source, report):
            pass
    with open_export(path, max_ratio=1e9, max_uncompressed=8 * 2**20) as source, \
            pytest.raises(ExportError, match=r"more than 8,388,608 bytes"):
        list(parse(source, Report()))


# --- not an export -------------------------------------------------------------------


@pytest.mark.parametrize("name, content, message", [
    ("photo.zip", b"\x89PNG\r\n\x1a\n" + bytes(200), "not an Apple Health export .*PNG"),
    ("empty.xml", b"", "empty file"),
    ("notes.xml", b"hello, this is text", "not an Apple Health export"),
    ("route.xml", b'<?xml version="1.0"?>\n<gpx version="1.1"><trk/></gpx>',
     r"root element is <gpx>, expected <HealthData>"),
    ("cda.xml", b'<?xml version="1.0"?>\n<!-- c -->\n<ClinicalDocument/>', "<ClinicalDocument>"),
    ("damaged.zip", b"PK\x05\x06" + bytes(10), "damaged zip"),
])
def test_files_that_are_not_exports(tmp_path: Path, name: str, content: bytes,
                                    message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ExportError, match=message):
        open_export(tmp_path / name)


@pytest.mark.parametrize("members", [
    {},
    {"apple_health_export/export_cda.xml": b"<ClinicalDocument/>"},
    {"apple_health_export/workout-routes/route.gpx": b"<gpx/>", "readme.txt": b"hi"},
])
def test_zips_without_an_export_xml(tmp_path: Path, members: dict[str, bytes]) -> None:
    path = write_zip(tmp_path / "export.zip", members)
    with pytest.raises(ExportError, match=r"holds no apple_health_export/export\.xml"):
        open_export(path)


def test_missing_file_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot be read"):
        open_export(tmp_path / "nope.zip")


# --- broken exports that still import --------------------------------------------------


def test_ios16_broken_dtd_export_parses_completely(broken: Generated) -> None:
    parsed = run(broken.path)
    assert parsed.report.damage is None
    assert parsed.report.export_version == 12
    assert parsed.batches[-1].records_done == broken.truth.total_records
    found = {t: c.parsed + c.not_understood for t, c in parsed.report.types.items()}
    assert found == broken.truth.records_by_type
    [warning] = parsed.report.warnings
    assert re.fullmatch(r"line \d+: removed 1 control character\(s\) .*", warning)


def test_control_characters_are_removed_with_one_warning(tmp_path: Path) -> None:
    at = "2024-03-01 08:00:00 +0100"
    body = (BODY + record(HR, "62", at, unit="count/min", source="Anna’s Apple\x0bWatch")
            + record(HR, "63", at, unit="count/min", source="\x01Anna’s\x1f Apple Watch"))
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert [r[5] for r in parsed.rows] == ["Anna’s Apple Watch", "Anna’s AppleWatch",
                                           "Anna’s Apple Watch"]
    assert parsed.report.warnings == [
        "line 12: removed 3 control character(s) that XML does not allow (iOS 16 writes a "
        "vertical tab into some source names)"]


# --- damage part-way -------------------------------------------------------------------


def full_and_cut(path: Path, at: int) -> tuple[list, list, Report, int]:
    """Rows of the whole file and of its first `at` bytes, the cut's report and line."""
    data = path.read_bytes()
    cut = path.with_name("cut.xml")
    cut.write_bytes(data[:at])
    whole = run(path).rows
    part = run(cut)
    return whole, part.rows, part.report, data[:at].count(b"\n") + 1


def test_a_file_cut_inside_a_record_keeps_everything_before(generated_xml: Generated) -> None:
    data = generated_xml.path.read_bytes()
    at = data.index(b'<Record type="HKQuantityTypeIdentifierStepCount"', len(data) // 2) + 60
    whole, part, report, line = full_and_cut(generated_xml.path, at)
    assert 0 < len(part) < len(whole) and part == whole[:len(part)]
    before = data[:at].count(b"<Record ") - data[:at].count(b"<Correlation ") * 2 - 1
    assert len(part) >= before - 200  # everything but unknown types and BP twins
    assert report.damage is not None and report.damage.line == line
    assert report.damage.message.startswith(f"The file ends early at line {line}: ")
    assert report.damage.message.endswith(
        "Everything before it was imported; export again from the Health app to import "
        "the rest.")


def test_a_zip_cut_in_half_imports_the_part_that_arrived(tmp_path: Path,
                                                         generated: Generated) -> None:
    data = generated.path.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(cut)
    part = run(cut)
    whole = run(generated.path).rows
    assert len(whole) // 4 < len(part.rows) < len(whole) and part.rows == whole[:len(part.rows)]
    assert part.report.damage is not None
    assert part.report.damage.message.startswith(
        f"The file ends early at line {part.report.damage.line}: ")


def test_garbage_part_way_is_damage_not_an_exception(tmp_path: Path) -> None:
    at = "2024-03-01 08:00:00 +0100"
    body = BODY + record(HR, "62", at, unit="count/min") + " <<<garbage>>>\n" + BODY * 3
    parsed = run(write_export(tmp_path / "export.xml", body))
    assert [r[4] for r in parsed.rows] == [61.0, 62.0]
    assert parsed.report.damage is not None and parsed.report.damage.line == 13
    assert parsed.report.damage.message.startswith(
        "The file is damaged at line 13: not well-formed (invalid token). Everything before")


def test_damage_in_a_gpx_route_is_a_warning(tmp_path: Path) -> None:
    xml = (MODERN.parent / "healthkit-to-sqlite" / "zip_contents" / "apple_health_export"
           / "export.xml").read_bytes()
    path = write_zip(tmp_path / "export.zip", {
        "apple_health_export/export.xml": xml,
        "apple_health_export/workout-routes/route_2019-06-11_3.00pm.gpx":
            b'<?xml version="1.0"?><gpx><trk><trkseg><trkpt lat="1" lon="2"><time>'
            b"2019-06-11T22:00:42Z</time></trkpt><trkpt lat=",
    })
    parsed = run(path)
    assert parsed.report.damage is None
    assert parsed.workouts[0].route == [(1560290442, 1.0, 2.0, None)]
    assert re.fullmatch(r"line \d+: export\.zip:apple_health_export/workout-routes/route_"
                        r"2019-06-11_3\.00pm\.gpx could not be read to the end \(.*\)",
                        parsed.report.warnings[0])


WORKOUT = """ <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="Anna’s Apple Watch" startDate="2024-03-01 18:00:00 +0100" endDate="2024-03-01 18:30:00 +0100">
  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2024-03-01 18:00:00 +0100" startDate="2024-03-01 18:00:00 +0100"
    endDate="2024-03-01 18:30:00 +0100" average="151" minimum="98" maximum="177" unit="count/min"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="2024-03-01 18:00:00 +0100" endDate="2024-03-01 18:30:00 +0100" sum="1255.2" unit="kJ"/>
 </Workout>
"""  # noqa: E501 - Apple's one-line elements


def test_repeated_workout_statistics_attribute_is_dropped(tmp_path: Path) -> None:
    """iOS 16 is reported to write startDate twice; expat alone would stop the file there."""
    parsed = run(write_export(tmp_path / "export.xml", BODY + WORKOUT + BODY))
    assert parsed.report.damage is None
    [workout] = parsed.workouts
    assert workout.stats["HKQuantityTypeIdentifierHeartRate"] == {
        "average": 151.0, "minimum": 98.0, "maximum": 177.0}
    assert workout.energy_kcal == pytest.approx(300.0)
    assert workout.duration_s == 1800.0 and workout.distance_km is None
    assert len(parsed.rows) == 2
    assert parsed.report.warnings == [
        "line 13: dropped 1 repeated attribute(s) in WorkoutStatistics (iOS 16 writes "
        "startDate twice); the first value was kept"]


@pytest.mark.parametrize("chunk", [97, 1000, 4099])
def test_chunk_boundaries_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         generated_xml: Generated, chunk: int) -> None:
    """Tags cut anywhere by a chunk end (including a repaired one) parse the same."""
    from data.collectors import apple_health_xml

    padding = BODY * 1500  # more than the first read, so the workout is in later chunks
    small = write_export(tmp_path / "export.xml", padding + WORKOUT + BODY)
    expected_small, expected_big = run(small), run(generated_xml.path)
    monkeypatch.setattr(apple_health_xml, "CHUNK", chunk)
    got = run(small)
    assert got.rows == expected_small.rows and got.workouts == expected_small.workouts
    assert got.report.warnings == expected_small.report.warnings
    if chunk > 1000:
        big = run(generated_xml.path)
        assert big.rows == expected_big.rows and big.workouts == expected_big.workouts


def routed_export(tmp_path: Path, gpx: bytes | None) -> Path:
    unpacked = MODERN.parent / "healthkit-to-sqlite" / "zip_contents" / "apple_health_export"
    members = {"apple_health_export/export.xml": (unpacked / "export.xml").read_bytes()}
    if gpx is not None:
        members["apple_health_export/workout-routes/route_2019-06-11_3.00pm.gpx"] = gpx
    return write_zip(tmp_path / "export.zip", members)


def test_a_route_that_declares_entities_refuses_the_export(tmp_path: Path) -> None:
    gpx = (b'<?xml version="1.0"?>\n<!DOCTYPE gpx [<!ENTITY a "b">]>\n<gpx><trk><trkseg>'
           b'<trkpt lat="1" lon="2"><time>&a;</time></trkpt></trkseg></trk></gpx>')
    with open_export(routed_export(tmp_path, gpx)) as source, \
            pytest.raises(ExportError, match=r"route_2019-06-11_3\.00pm\.gpx declares XML"):
        list(parse(source, Report()))


def test_a_missing_route_is_a_warning(tmp_path: Path) -> None:
    parsed = run(routed_export(tmp_path, None))
    assert parsed.workouts[0].route == []
    assert parsed.report.warnings == [
        "line 19: the workout route /workout-routes/route_2019-06-11_3.00pm.gpx is not in the "
        "export"]


@pytest.mark.parametrize("cut_after", [b"<Workout ", b"<WorkoutStatistics type=", b"<"])
def test_a_file_cut_inside_a_workout_tag_ends_with_damage(tmp_path: Path,
                                                          cut_after: bytes) -> None:
    data = write_export(tmp_path / "full.xml", BODY * 3 + WORKOUT).read_bytes()
    at = data.index(cut_after, data.index(b"<Workout ")) + len(cut_after)
    (tmp_path / "cut.xml").write_bytes(data[:at])
    parsed = run(tmp_path / "cut.xml")
    assert len(parsed.rows) == 3 and parsed.workouts == []
    assert parsed.report.damage is not None
    assert parsed.report.damage.message.startswith("The file ends early at line ")
