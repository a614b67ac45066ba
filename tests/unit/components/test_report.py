"""The clinician report PDF as a clinician gets it: opened with pypdf, pages counted, text read.

All names, dates and readings are invented.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from components.report import (
    ReportBand,
    ReportChart,
    ReportData,
    ReportSection,
    ReportSeries,
    ReportStat,
    build_report_pdf,
)

NAME = "Testa Q. Exampleperson"
RANGE = "1 Sep 2026 – 29 Nov 2026"
FONT_PATHS = {
    "dejavu": ("/usr/share/fonts/truetype/dejavu",),
    "helvetica": None,  # built-in Helvetica only
}
needs_dejavu = pytest.mark.skipif(
    not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file(),
    reason="DejaVu Sans is not installed (apt: fonts-dejavu-core)",
)
FONTS = [pytest.param("dejavu", marks=needs_dejavu), "helvetica"]


def days(n: int, start: date = date(2026, 9, 1)) -> tuple[str, ...]:
    return tuple((start + timedelta(days=i)).isoformat() for i in range(n))


def wave(n: int, mid: float, amp: float, *, gaps: int = 0) -> tuple[float | None, ...]:
    """Smooth made-up readings with every ``gaps``-th value missing."""
    return tuple(
        None if gaps and i % gaps == gaps - 1 else round(mid + amp * math.sin(i / 5), 1)
        for i in range(n)
    )


def realistic() -> ReportData:
    x = days(90)
    hours = tuple(f"{h:02d}:00" for h in range(24))
    bp = ReportSection(
        "Blood pressure",
        (
            ReportStat("Mean blood pressure", "132/84 mmHg", "Stage 1 hypertension · 41 readings"),
            ReportStat("Morning mean", "136/86 mmHg", "22 readings, 05:00–11:59"),
            ReportStat("Evening mean", "128/81 mmHg", "19 readings, 17:00–22:59"),
        ),
        ReportChart(
            "Systolic and diastolic", "mmHg", x,
            (ReportSeries("Systolic", wave(90, 132, 8, gaps=7)),
             ReportSeries("Diastolic", wave(90, 84, 5, gaps=7))),
            bands=(ReportBand("Normal < 120/80 mmHg", None, 120),
                   ReportBand("Stage 2 ≥ 140/90 mmHg", 140, None)),
            notes=(("2026-09-20", "Started amlodipine 5 mg"),),
        ),
    )
    weight = ReportSection(
        "Weight",
        (ReportStat("Latest weight", "71.4 kg", "2026-11-28"),
         ReportStat("Change over range", "−1.8 kg", "from 73.2 kg")),
        ReportChart("Weight", "kg", x,
                    (ReportSeries("Daily", wave(90, 72, 1, gaps=3), "points"),
                     ReportSeries("7-day average", wave(90, 72, 0.7)))),
    )
    heart = ReportSection(
        "Heart",
        (ReportStat("Resting heart rate, 7-day mean", "64 bpm", "baseline 61–66 bpm"),
         ReportStat("HRV (SDNN)", "42 ms", "baseline 38–51 ms")),
        ReportChart("Resting heart rate", "bpm", x,
                    (ReportSeries("Resting HR", wave(90, 63, 3)),),
                    bands=(ReportBand("Personal baseline 61–66 bpm", 61, 66),)),
    )
    glucose = ReportSection(
        "Glucose",
        (ReportStat("Time in range 70–180 mg/dL", "74 %", "target > 70 %"),
         ReportStat("GMI", "6.9 %", "mean glucose 151 mg/dL"),
         ReportStat("Coefficient of variation", "31 %", "target ≤ 36 %")),
        ReportChart("Ambulatory glucose profile", "mg/dL", hours,
                    (ReportSeries("Median", wave(24, 150, 30)),
                     ReportSeries("5th percentile", wave(24, 95, 15)),
                     ReportSeries("95th percentile", wave(24, 230, 35))),
                    bands=(ReportBand("Target range 70–180 mg/dL", 70, 180),)),
    )
    steps = ReportSection(
        "Activity",
        (ReportStat("Daily steps, mean", "7,412 steps", "source: watch (de-duplicated)"),),
        ReportChart("Daily steps", "steps/day", x,
                    (ReportSeries("Steps", wave(90, 7400, 2500, gaps=11), "bar"),)),
    )
    spo2 = ReportSection(
        "SpO2",
        (ReportStat("Lowest nightly SpO2", "89 %", "2026-10-03 · below 90 %"),),
        ReportChart("Nightly SpO2", "%", x, (), empty_message="No SpO2 readings in this range"),
    )
    sleep = ReportSection(
        "Sleep",
        (ReportStat("Mean sleep", "6 h 48 min", "≥ 7 h on 38 of 90 nights"),
         ReportStat("Body temperature", "36.7 °C", "wrist, nightly deviation ±0.3 °C"),
         ReportStat("Vitamin D", "42 µg/L", "lab, 2026-10-01")),
        ReportChart("Sleep per night", "h", x,
                    (ReportSeries("Asleep", wave(90, 6.8, 0.8), "bar"),
                     ReportSeries("In bed", wave(90, 7.6, 0.6), "bar")),
                    bands=(ReportBand("Recommended ≥ 7 h", 7, None),)),
    )
    return ReportData(
        patient_name=NAME,
        patient_detail="Born 1961-04-02 · 65 y · female",
        range_label=RANGE,
        timezone="Europe/Berlin",
        generated="2026-11-29 10:14 by Dr Sam Placeholder",
        sections=(bp, weight, heart, glucose, steps, spo2, sleep),
        notes=(("2026-09-20 08:00", "Dr Sam Placeholder", "Started amlodipine 5 mg once daily"),
               ("2026-10-15 17:30", "Nurse Kim Sample", "Reports dizziness on standing")),
        flags=("Blood pressure in stage 1 on average (132/84 mmHg).",
               "Lowest nightly SpO2 89 % on 2026-10-03, below 90 %."),
        sources=("Blood pressure categories: 2017 ACC/AHA guideline.",
                 "Glucose targets: International Consensus on Time in Range, Diabetes Care 2019."),
    )


def huge() -> ReportData:
    """Everything too much: many sections, stats, notes, flags and long texts."""
    base = realistic()
    many = tuple(
        dataclasses.replace(
            base.sections[i % len(base.sections)],
            title=f"Section {i + 1} " + "with a rather long title " * 4,
            stats=tuple(ReportStat(f"Statistic {j} " + "label " * 12, f"{j}.0 units",
                                   "detail " * 60) for j in range(15)),
        )
        for i in range(14)
    )
    return dataclasses.replace(
        base,
        patient_name="Averyveryverylongfamilyname " * 10,
        sections=many,
        notes=tuple((f"2026-10-{1 + i % 28:02d}", f"Author {i}", "A long note text " * 60)
                    for i in range(200)),
        flags=tuple(f"Flag number {i}: " + "something notable " * 15 for i in range(40)),
        sources=tuple(f"Source {i}: " + "a long citation " * 20 for i in range(30)),
    )


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), text


def squashed(text: str) -> str:
    """Text with whitespace removed: extraction may break lines anywhere."""
    return re.sub(r"\s+", "", text)


def as_printed(text: str, fonts: str) -> str:
    """What the report prints for ``text``: Helvetica lacks some signs and gets stand-ins."""
    if fonts == "helvetica":
        text = text.replace("≥", ">=").replace("≤", "<=").replace("−", "-")
    return text


@pytest.mark.parametrize("fonts", FONTS)
def test_realistic_report_has_everything_a_clinician_reads(fonts: str) -> None:
    report = realistic()
    pdf = build_report_pdf(report, font_dirs=FONT_PATHS[fonts])
    pages, text = pdf_text(pdf)
    assert 1 <= pages <= 2
    flat = squashed(text)
    expected = [NAME, report.range_label, report.timezone,
                *(s.title for s in report.sections),
                *(stat.value for s in report.sections for stat in s.stats),
                *report.flags, *(note[2] for note in report.notes),
                *report.sources, f"Page 1 of {pages}"]
    for wanted in expected:
        assert squashed(as_printed(wanted, fonts)) in flat, wanted
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == f"HealthDash report — {NAME}"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


@pytest.mark.parametrize("fonts", FONTS)
def test_every_page_has_the_header(fonts: str) -> None:
    report = dataclasses.replace(realistic(), notes=realistic().notes * 5)
    reader = PdfReader(io.BytesIO(build_report_pdf(report, font_dirs=FONT_PATHS[fonts])))
    assert len(reader.pages) == 2
    for number, page in enumerate(reader.pages, start=1):
        flat = squashed(page.extract_text())
        assert squashed(NAME) in flat
        assert squashed(RANGE) in flat
        assert "Europe/Berlin" in flat
        assert f"Page{number}of2" in flat


def test_axes_name_their_units_and_the_time_zone() -> None:
    _, text = pdf_text(build_report_pdf(realistic()))
    flat = squashed(text)
    for unit in ("mmHg", "kg", "bpm", "mg/dL", "steps/day"):
        assert squashed(f"({unit})") in flat, unit
    assert "Date(Europe/Berlin)" in flat
    assert "Timeofday(Europe/Berlin)" in flat  # the glucose profile's x axis
    assert "1Startedamlodipine5mg" in flat  # the note marker's legend entry


@pytest.mark.parametrize("fonts", FONTS)
def test_huge_input_stays_on_two_pages_and_says_what_was_left_out(fonts: str) -> None:
    report = huge()
    pages, text = pdf_text(build_report_pdf(report, font_dirs=FONT_PATHS[fonts]))
    assert pages <= 2
    flat = squashed(text)
    match = re.search(r"…and(\d+)morenotes", flat)
    assert match, "the notes list is not cut with '… and N more notes'"
    assert 0 < int(match.group(1)) < len(report.notes)
    assert "…and" in flat and "moreflags" in flat
    assert "Flagnumber0" in flat  # the first flags stay


def test_absurd_input_still_two_pages_and_says_how_many_sections_are_left_out() -> None:
    report = huge()
    report = dataclasses.replace(report, sections=report.sections * 6)
    pages, text = pdf_text(build_report_pdf(report))
    assert pages == 2
    flat = squashed(text)
    match = re.search(r"…and(\d+)moresectionsleftout", flat)
    assert match
    shown = len(set(re.findall(r"Section(\d+)with", flat)))
    assert 0 < int(match.group(1)) < len(report.sections)
    assert shown > 0
    assert "…and197morenotes" in flat  # notes and sources are kept, cut short
    assert "Source0:" in flat


def test_eight_sections_with_charts_keep_their_charts() -> None:
    base = realistic()
    report = dataclasses.replace(base, sections=(*base.sections, base.sections[0]))
    assert len(report.sections) == 8
    pages, text = pdf_text(build_report_pdf(report))
    assert pages <= 2
    assert "Chartsareleftout" not in squashed(text)
    assert "Date(Europe/Berlin)" in squashed(text)


def test_empty_chart_shows_its_message() -> None:
    report = realistic()
    _, text = pdf_text(build_report_pdf(report))
    assert "NoSpO2readingsinthisrange" in squashed(text)

    all_gaps = ReportSection("Temperature", (), ReportChart(
        "Body temperature", "°C", days(5), (ReportSeries("Nightly", (None,) * 5),)))
    no_x = ReportSection("HRV", (), ReportChart("HRV", "ms", (), ()))
    _, text = pdf_text(build_report_pdf(dataclasses.replace(report, sections=(all_gaps, no_x))))
    assert squashed(text).count("Noreadingsinthisrange") == 2


@pytest.mark.parametrize("fonts", FONTS)
def test_special_characters_survive_or_read_plainly(fonts: str) -> None:
    report = dataclasses.replace(
        realistic(),
        flags=("Sleep ≥ 7 h on 38 nights – temperature 36.7 °C – vitamin D 42 µg/L",),
    )
    _, text = pdf_text(build_report_pdf(report, font_dirs=FONT_PATHS[fonts]))
    flat = squashed(text)
    ge = "≥" if fonts == "dejavu" else ">="
    assert squashed(f"Sleep {ge} 7 h on 38 nights – temperature 36.7 °C – vitamin D 42") in flat
    assert "42µg/L" in flat or "42μg/L" in flat  # micro sign, or Greek mu after normalisation
    if fonts == "helvetica":
        assert "≥" not in flat  # never a glyph the font lacks


def test_missing_font_folder_falls_back_to_helvetica(tmp_path: Path) -> None:
    pdf = build_report_pdf(realistic(), font_dirs=(str(tmp_path),))
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {str(f["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"]["/Font"].values()}  # type: ignore[union-attr]
    assert fonts and all("Helvetica" in f for f in fonts), fonts
    assert ">=7h" in squashed(pdf_text(pdf)[1])  # "Recommended ≥ 7 h", replaced


def test_same_data_gives_the_same_bytes() -> None:
    assert build_report_pdf(realistic()) == build_report_pdf(realistic())


def test_a_long_list_of_notes_is_cut_with_a_count() -> None:
    notes = tuple((f"2026-10-{1 + i:02d} 09:00", "Dr Sam Placeholder", f"Visit note {i}")
                  for i in range(25))
    pages, text = pdf_text(build_report_pdf(dataclasses.replace(realistic(), notes=notes)))
    assert pages <= 2
    shown = [int(i) for i in re.findall(r"Visit note (\d+)", text)]
    match = re.search(r"…and(\d+)morenotes", squashed(text))
    assert match
    assert shown == list(range(len(shown)))  # the caller's order, from the first note on
    assert 0 < len(shown) < 25
    assert len(shown) + int(match.group(1)) == 25
