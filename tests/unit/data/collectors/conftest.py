"""Shared material for the Apple Health parser tests: generated exports and small builders.

Generated exports come from `bench.applehealth_gen` (a colleague's generator with its own
ground truth), made once per session because they take a second or two.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.applehealth_gen import Truth, generate_export
from data.collectors.apple_health import Batch, Report, open_export, parse

FIXTURES = Path("/work/shared/fixtures/apple-health")
MODERN = FIXTURES / "apple-health-parser"
OLD = FIXTURES / "healthkit-to-sqlite"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-06-01 08:10:05 +0200"/>
"""
WATCH_DEVICE = ("&lt;&lt;HKDevice: 0x3012772a0&gt;, name:Apple Watch, manufacturer:Apple Inc., "
                "model:Watch, hardware:Watch6,7, software:10.2&gt;")


@dataclass
class Parsed:
    """Everything one parse produced."""

    batches: list[Batch]
    report: Report

    @property
    def rows(self) -> list[tuple]:
        return [row for batch in self.batches for row in batch.rows]

    @property
    def workouts(self) -> list:
        return [w for batch in self.batches for w in batch.workouts]

    @property
    def summaries(self) -> list:
        return [s for batch in self.batches for s in batch.summaries]

    @property
    def kinds(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for batch in self.batches:
            merged.update(batch.source_kinds)
        return merged

    def metric(self, code: str) -> list[tuple]:
        return [row for row in self.rows if row[0] == code]


def run(path: Path | str, **kwargs: object) -> Parsed:
    """Open and parse a whole export."""
    report = Report()
    with open_export(path) as source:
        batches = list(parse(source, report, **kwargs))  # type: ignore[arg-type]
    return Parsed(batches, report)


def record(typ: str, value: str, start: str, end: str | None = None, unit: str | None = "count",
           source: str = "Anna’s Apple Watch", device: str | None = WATCH_DEVICE) -> str:
    """One `<Record>` line as Apple writes it."""
    attrs = f'type="{typ}" sourceName="{source}" sourceVersion="10.2"'
    if device:
        attrs += f' device="{device}"'
    if unit is not None:
        attrs += f' unit="{unit}"'
    return (f' <Record {attrs} creationDate="{start}" startDate="{start}" '
            f'endDate="{end or start}" value="{value}"/>\n')


def write_export(path: Path, body: str, header: str = HEADER) -> Path:
    """A plain export.xml made of the standard header, `body` and the closing tag."""
    path.write_bytes((header + body + "</HealthData>\n").encode())
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def deflated_zip(path: Path, name: str, prefix: bytes, filler: bytes, megabytes: int, *,
                 declare_sizes: bool = True) -> Path:
    """A zip whose member is `prefix` + `megabytes` MB of `filler`, written in ~1 MB on disk.

    Deflate output for a block of one repeated byte is the same every time after a full
    flush, so the block is compressed once and repeated. With `declare_sizes=False` the
    local header hides the sizes (data-descriptor flag) and the central directory is left
    out, as in a zip cut short: only a reader's streaming limit can stop it.
    """
    block = filler * 2**20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(prefix + block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH) == again
    data = first + again * (megabytes - 1) + deflate.flush()
    size = len(prefix) + len(block) * megabytes
    crc = zlib.crc32(prefix)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    raw = name.encode()
    sizes = (crc, len(data), size) if declare_sizes else (0, 0, 0)
    flags = 0 if declare_sizes else 0x08
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, 0, 0x21, *sizes,
                        len(raw), 0)
    with path.open("wb") as out:
        out.write(local + raw + data)
        if declare_sizes:
            central_at = out.tell()
            central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21,
                                  crc, len(data), size, len(raw), 0, 0, 0, 0, 0, 0) + raw
            out.write(central)
            out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                                  central_at, 0))
    return path


@dataclass
class Generated:
    path: Path
    truth: Truth


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A zip export of about 45k records (48 days: includes the trip to New York)."""
    path = tmp_path_factory.mktemp("gen") / "export.zip"
    return Generated(path, generate_export(path, 45_000, seed=7))


@pytest.fixture(scope="session")
def generated_parsed(generated: Generated) -> Parsed:
    return run(generated.path)


@pytest.fixture(scope="session")
def generated_xml(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The XML of a 12k-record export on its own (no zip, so no GPX files next to it)."""
    path = tmp_path_factory.mktemp("genxml") / "export.xml"
    return Generated(path, generate_export(path, 12_000, seed=3, xml_only=True))


@pytest.fixture(scope="session")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The iOS 16 export: version 12, unterminated ATTLISTs, a vertical tab in a name."""
    path = tmp_path_factory.mktemp("broken") / "export.zip"
    return Generated(path, generate_export(path, 8_000, seed=5, broken_dtd=True))
