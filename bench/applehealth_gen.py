"""Synthetic Apple Health exports of any size, with the ground truth an importer must find.

    .venv/bin/python -m bench.applehealth_gen OUT.zip --records N [--seed S] [--broken-dtd]
        [--xml-only]

Real exports cannot be shared and the public ones are tiny, so importers are tested and
benchmarked on this instead. The file copies what real exports do that bites an importer
(see /work/shared/docs/DATA-SOURCES.md §1): an internal DTD (optionally the broken iOS 16
one, plus a vertical tab in a source name), dates with the offset of the moment across DST
and a trip abroad, Apple Watch and iPhone writing overlapping steps, distance and energy in
different units, blood pressure both in Correlations and at top level, glucose in mg/dL and
mmol<180.1558800000541>/L, SpO2 as a fraction, sleep stages next to the phone's InBed, HRV
beat lists with comma decimals, v13 workouts with GPX routes, activity summaries, a type no
importer knows and `HKDataTypeSleepDurationGoal`.

The XML is streamed into the zip one day at a time, so memory stays flat at any size; the
truth is accumulated while writing, never by parsing the result.
"""

from __future__ import annotations

import argparse
import gc
import queue
import random
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from bench.applehealth_gen_clock import Clock
from bench.applehealth_gen_day import DaySimulator, plan_days
from bench.applehealth_gen_truth import Tally, Truth
from bench.applehealth_gen_xml import FOOTER, cda, gpx, header

__all__ = ["RECORDS_PER_DAY", "Truth", "generate_export", "main"]

ROOT = "apple_health_export/"
# Measured average of Record elements per generated day (heart rate is nearly 60 %);
# the number of days is `records / RECORDS_PER_DAY`, so the mix stays the same at any size.
RECORDS_PER_DAY = 950
_BATCH = 2 << 20


def generate_export(
    path: Path | str,
    records: int,
    seed: int = 1,
    *,
    start: date = date(2024, 1, 1),
    zone: str = "Europe/Paris",
    trip: tuple[int, int, str] | None = (40, 47, "America/New_York"),
    broken_dtd: bool = False,
    xml_only: bool = False,
    export_version: int = 13,
) -> Truth:
    """Write an export of about `records` Record elements to `path`; return its ground truth.

    `path` is a zip laid out like the Health app's (`apple_health_export/export.xml`,
    `export_cda.xml`, `workout-routes/*.gpx`), or with `xml_only` just the XML. `trip` is
    `(first day, day after the last, zone)` in days from `start`. `broken_dtd` writes the
    iOS 16 file: export version 12 with unterminated ATTLISTs and a `\\x0b` in one
    `sourceName`. `export_version` sets the DTD comment (and, from 14, the `Me` attribute
    `CardioFitnessMedicationsUse`). Same arguments, same bytes of XML.
    """
    days = max(1, round(records / RECORDS_PER_DAY))
    rng = random.Random(seed)
    plans, segments = plan_days(start, days, zone, trip, rng)
    clock = Clock(segments, until=plans[-1].bed + 2 * 86400)
    tally = Tally()
    odd_day = days // 2 if broken_dtd else None
    simulator = DaySimulator(rng, clock, tally, days=days, odd_day=odd_day)
    version = 12 if broken_dtd else export_version
    head = header(version, broken=broken_dtd, export_date=clock.stamp(plans[-1].bed + 36_000))

    def stream(write: Callable[[bytes], object]) -> None:
        with _gc_paused(), _background(write) as put:
            put(head.encode())
            for plan in plans:
                put(simulator.block(plan))
            put(FOOTER.encode())

    path = Path(path)
    if xml_only:
        with path.open("wb") as out:
            stream(out.write)
    else:
        # Deflate level 1: ~3x faster than the default 6 on this text, for a ~40 % larger zip.
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            with archive.open(ROOT + "export.xml", "w", force_zip64=True) as member:
                stream(member.write)
            archive.writestr(ROOT + "export_cda.xml", cda(clock.stamp(plans[0].wake)))
            for route in simulator.routes:
                title = "Route " + route.name[6:-4].replace("_", " ").replace(".", ":")
                archive.writestr(
                    ROOT + "workout-routes/" + route.name,
                    gpx(title, route.start, route.end, route.lat, route.lon, route.speed),
                )
    return tally.finish(clock.offsets_seen)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: every record allocates a tuple, which would trigger a collection
    every few hundred records (~12% of the run); records form no cycles to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _background(write: Callable[[bytes], object]) -> Iterator[Callable[[bytes], None]]:
    """Run `write` (deflate, CRC, disk) in a thread: zlib releases the GIL, so compressing
    overlaps generating. Days are batched into ~2 MiB so the thread rarely has to wait for
    the GIL; the queue bound keeps memory to a few batches."""
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
    failure: list[BaseException] = []
    pending: list[bytes] = []
    size = 0

    def put(data: bytes) -> None:
        nonlocal size
        pending.append(data)
        size += len(data)
        if size >= _BATCH:
            chunks.put(b"".join(pending))
            pending.clear()
            size = 0

    def drain() -> None:
        while (chunk := chunks.get()) is not None:
            if not failure:
                try:
                    write(chunk)
                except BaseException as exc:  # handed to the caller below, never swallowed
                    failure.append(exc)

    worker = threading.Thread(target=drain, name="applehealth-gen-writer", daemon=True)
    worker.start()
    try:
        yield put
        chunks.put(b"".join(pending))
    finally:
        chunks.put(None)
        worker.join()
    if failure:
        raise failure[0]


def main(argv: list[str] | None = None) -> int:
    """Command line: write the export and report size and speed."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.applehealth_gen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path, help="zip to write (or XML with --xml-only)")
    parser.add_argument("--records", type=int, required=True, help="about this many Records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--broken-dtd", action="store_true", help="iOS 16 (v12) broken DTD")
    parser.add_argument("--xml-only", action="store_true", help="write export.xml only")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    truth = generate_export(
        args.out, args.records, args.seed, broken_dtd=args.broken_dtd, xml_only=args.xml_only
    )
    seconds = time.perf_counter() - began
    size = args.out.stat().st_size
    xml_size = size
    if not args.xml_only:
        with zipfile.ZipFile(args.out) as archive:
            xml_size = archive.getinfo(ROOT + "export.xml").file_size
    days = len(truth.daily_steps)
    print(
        f"{args.out}: {truth.total_records:,} records ({sum(truth.records_by_type.values()):,}"
        f" top-level, {len(truth.records_by_type)} types) over {days} days, "
        f"{truth.workouts} workouts\n"
        f"export.xml {xml_size / 1e6:,.1f} MB, file {size / 1e6:,.1f} MB, "
        f"{seconds:.1f} s, {truth.total_records / seconds:,.0f} records/s, "
        f"{xml_size / 1e6 / seconds:,.1f} MB/s of XML"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
