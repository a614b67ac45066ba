"""What goes into a patient's PDF report: the page's panels as `ReportData`.

Pure: panel data in (the same `data.panels` results the page draws), report data out. The
statistics are the page's own `components.clinical_stats` lines, so the report and the
page print the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from components.clinical_stats import (
    Stat,
    bp_stats,
    glucose_stats,
    heart_stats,
    sleep_stats,
    spo2_stats,
    steps_stats,
    weight_stats,
)
from components.report import (
    ReportBand,
    ReportChart,
    ReportData,
    ReportSection,
    ReportSeries,
    ReportStat,
)
from data.panels import (
    BpPanel,
    GlucosePanel,
    HeartPanel,
    SleepPanel,
    Spo2Panel,
    StepsPanel,
    WeightPanel,
)
from data.reference_ranges import BP_SYSTOLIC, GLUCOSE


def _day(t_local: int) -> str:
    return f"{datetime.fromtimestamp(int(t_local), UTC):%Y-%m-%d}"


def _values(values: np.ndarray) -> tuple[float | None, ...]:
    return tuple(None if not np.isfinite(v) else round(float(v), 2) for v in values)


def _stats(stats: list[Stat]) -> tuple[ReportStat, ...]:
    return tuple(ReportStat(s.label, s.text, s.detail) for s in stats)


def _notes(notes: Sequence[tuple[int, str]], x: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    shown = set(x)
    return tuple((_day(t), text[:40]) for t, text in notes if _day(t) in shown)


def _daily_means(t_local: np.ndarray, *values: np.ndarray) -> tuple[tuple[str, ...], list]:
    """Per local day, the mean of each value array (for reading-level series)."""
    days = t_local // 86400 * 86400
    unique = np.unique(days)
    out = []
    for v in values:
        out.append(np.array([v[days == d].mean() for d in unique]))
    return tuple(_day(d) for d in unique), out


def bp_section(panel: BpPanel, notes) -> ReportSection:
    """Daily mean systolic/diastolic on the ACC/AHA systolic thresholds."""
    x, (sys_, dia) = _daily_means(panel.t_local, panel.systolic, panel.diastolic)
    bands = tuple(ReportBand(f"{b.label} (systolic)", b.low, b.high) for b in BP_SYSTOLIC.bands
                  if b.severity != "normal" and b.low is not None and b.low < 200)
    chart = ReportChart("Blood pressure (daily mean)", "mmHg", x, (
        ReportSeries("Systolic", _values(sys_), "points"),
        ReportSeries("Diastolic", _values(dia), "points"),
    ), bands[:2], _notes(notes, x))
    return ReportSection("Blood pressure", _stats(bp_stats(panel)), chart)


def weight_section(panel: WeightPanel, notes) -> ReportSection:
    x = tuple(_day(d) for d in panel.day)
    series = [ReportSeries("Daily weight", _values(panel.kg), "points")]
    if panel.trend is not None:
        series.append(ReportSeries("7-day average", _values(panel.trend.avg7)))
    chart = ReportChart("Weight", "kg", x, tuple(series), (), _notes(notes, x))
    return ReportSection("Weight", _stats(weight_stats(panel)), chart)


def heart_section(panel: HeartPanel, notes) -> ReportSection:
    r = panel.resting
    x = tuple(_day(d) for d in r.day)
    chart = ReportChart("Resting heart rate against usual range", "bpm", x, (
        ReportSeries("Resting heart rate", _values(r.value)),
        ReportSeries("Usual (90-day median)", _values(r.band.median), "points"),
    ), (), _notes(notes, x))
    return ReportSection("Heart", _stats(heart_stats(panel)), chart)


def steps_section(panel: StepsPanel, notes) -> ReportSection:
    x = tuple(_day(d) for d in panel.day)
    chart = ReportChart("Daily steps", "steps", x,
                        (ReportSeries("Steps", _values(panel.steps), "bar"),), (),
                        _notes(notes, x))
    return ReportSection("Activity", _stats(steps_stats(panel)), chart)


def sleep_section(panel: SleepPanel) -> ReportSection:
    x = tuple(_day(d) for d in panel.nights)
    asleep = sum((panel.minutes.get(c, np.zeros(len(x))) for c in (1, 3, 4, 5)),
                 np.zeros(len(x)))
    chart = ReportChart("Time asleep per night", "hours", x,
                        (ReportSeries("Asleep", _values(asleep / 60), "bar"),))
    return ReportSection("Sleep", _stats(sleep_stats(panel)), chart)


def spo2_section(panel: Spo2Panel) -> ReportSection:
    n = panel.nightly
    x = tuple(_day(d) for d in n.night)
    chart = ReportChart("Nightly SpO2", "%", x, (
        ReportSeries("Nightly minimum", _values(n.min), "points"),
        ReportSeries("Nightly mean", _values(n.mean)),
    ), (ReportBand("Low (< 90%)", None, 90),))
    return ReportSection("Blood oxygen (SpO2)", _stats(spo2_stats(panel)), chart)


def glucose_section(panel: GlucosePanel) -> ReportSection:
    a = panel.agp
    x = tuple(f"{int(m) // 60:02d}:{int(m) % 60:02d}" for m in a.minute)
    chart = ReportChart("Ambulatory glucose profile", "mg/dL", x, (
        ReportSeries("Median", _values(a.p50)),
        ReportSeries("25th percentile", _values(a.p25), "points"),
        ReportSeries("75th percentile", _values(a.p75), "points"),
    ), (ReportBand("Target range 70–180 mg/dL", 70, 180),))
    return ReportSection("Glucose", _stats(glucose_stats(panel)), chart)


def build_report_data(*, patient_name: str, patient_detail: str, range_label: str, tz: str,
                      generated: str, bp: BpPanel, weight: WeightPanel, heart: HeartPanel,
                      steps: StepsPanel, sleep: SleepPanel, spo2: Spo2Panel,
                      glucose: GlucosePanel | None, notes: Sequence[tuple[int, str, str]],
                      flags: Sequence[str]) -> ReportData:
    """The report of one patient and range. `notes` are (local time, author, text)."""
    marks = [(t, text) for t, _, text in notes]
    sections = [bp_section(bp, marks), weight_section(weight, marks),
                heart_section(heart, marks), steps_section(steps, marks), sleep_section(sleep),
                spo2_section(spo2)]
    sources = [BP_SYSTOLIC.source]
    if glucose is not None:
        sections.insert(1, glucose_section(glucose))
        sources.append(GLUCOSE.source)
    return ReportData(
        patient_name=patient_name, patient_detail=patient_detail, range_label=range_label,
        timezone=tz, generated=generated, sections=tuple(sections),
        notes=tuple((f"{datetime.fromtimestamp(t, UTC):%Y-%m-%d %H:%M}", author, text)
                    for t, author, text in notes),
        flags=tuple(flags), sources=tuple(sources),
    )
