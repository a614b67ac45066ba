"""The data behind each clinical panel of a patient page, for a date range.

One function per panel: repository reads (always with the caller's principal) plus the
statistics of `data.analyzers.clinical`. The page's callbacks, the PDF report and the API
all call these, so the numbers a clinician sees, prints and downloads are the same numbers.
Results are cached under the patient's data version (`Repository.memo`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from data import catalog
from data.access import Principal
from data.analyzers.clinical import (
    Agp,
    Baseline,
    BpSummary,
    GlucoseSummary,
    Nightly,
    TimeInRanges,
    WeightTrend,
    agp,
    baseline_band,
    bp_summary,
    glucose_summary,
    nightly,
    time_in_ranges,
    weekday_hour,
    weight_trend,
)
from data.repository import Repository

DAY = 86400
BASELINE_DAYS = 90
# A night starts at 18:00 the day before the date it is filed under (data.rollups).
NIGHT_START_S = -6 * 3600
NIGHT_END_S = 18 * 3600
RANGE_DAYS = {"30d": 30, "90d": 90, "180d": 180, "1y": 365}
HEATMAP_METRICS = ("heart_rate", "steps", "active_energy", "blood_glucose", "spo2",
                   "respiratory_rate", "hrv_sdnn")


@dataclass(frozen=True)
class Window:
    """A panel's range: UTC [start, end) and the patient's zone for captions."""

    patient_id: int
    start: int
    end: int
    tz: str

    def key(self, panel: str) -> str:
        """Cache key of a panel over this window."""
        return f"panel:{panel}:{self.start}:{self.end}"


def _midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), zone).timestamp())


def panel_window(patient_id: int, tz: str, range_key: str | None, custom_start: str | None,
                 custom_end: str | None, today: date | None = None) -> Window:
    """Whole local days: the last N days up to today, or a custom span of dates."""
    zone = ZoneInfo(tz)
    today = today or datetime.now(zone).date()
    if range_key == "custom" and custom_start and custom_end:
        first = date.fromisoformat(custom_start[:10])
        last = date.fromisoformat(custom_end[:10])
        if last < first:
            first, last = last, first
    else:
        last = today
        first = today - timedelta(days=RANGE_DAYS.get(range_key or "", 90) - 1)
    return Window(patient_id, _midnight(first, zone),
                         _midnight(last + timedelta(days=1), zone), tz)


def range_label(window: Window) -> str:
    """"1 Sep 2026 – 29 Nov 2026"."""
    zone = ZoneInfo(window.tz)
    first = datetime.fromtimestamp(window.start, zone)
    last = datetime.fromtimestamp(window.end - 1, zone)
    return f"{first:%-d %b %Y} – {last:%-d %b %Y}"



@dataclass(frozen=True)
class BpPanel:
    t_local: np.ndarray
    systolic: np.ndarray
    diastolic: np.ndarray
    summary: BpSummary | None


@dataclass(frozen=True)
class WeightPanel:
    day: np.ndarray
    kg: np.ndarray
    trend: WeightTrend | None


@dataclass(frozen=True)
class DailyRange:
    day: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class BaselinePanel:
    metric: str
    day: np.ndarray
    value: np.ndarray
    band: Baseline
    latest: float | None


@dataclass(frozen=True)
class HeartPanel:
    heart_rate: DailyRange
    resting: BaselinePanel
    hrv: BaselinePanel


@dataclass(frozen=True)
class StepsPanel:
    day: np.ndarray
    steps: np.ndarray
    source: list[str]
    mean: float | None


@dataclass(frozen=True)
class SleepPanel:
    nights: np.ndarray
    minutes: dict[int, np.ndarray]
    mean_asleep_min: float | None


@dataclass(frozen=True)
class Hypnogram:
    night: int
    start_local: np.ndarray
    end_local: np.ndarray
    stage: np.ndarray


@dataclass(frozen=True)
class Spo2Panel:
    nightly: Nightly
    low_readings: int


@dataclass(frozen=True)
class GlucosePanel:
    agp: Agp
    tir: TimeInRanges
    summary: GlucoseSummary


def _pairs(repo: Repository, who: Principal, w: Window) -> BpPanel:
    sys_ = repo.readings(who, w.patient_id, "bp_systolic", w.start, w.end)
    dia = repo.readings(who, w.patient_id, "bp_diastolic", w.start, w.end)
    key_s = {(int(t), int(src)): i for i, (t, src) in enumerate(zip(sys_.t_utc, sys_.source_id,
                                                                    strict=True))}
    idx_s, idx_d = [], []
    for j, (t, src) in enumerate(zip(dia.t_utc, dia.source_id, strict=True)):
        i = key_s.get((int(t), int(src)))
        if i is not None:
            idx_s.append(i)
            idx_d.append(j)
    t_local = sys_.t_local[idx_s]
    systolic, diastolic = sys_.value[idx_s], dia.value[idx_d]
    summary = bp_summary(t_local, systolic, diastolic) if len(t_local) else None
    return BpPanel(t_local, systolic, diastolic, summary)


def blood_pressure(repo: Repository, who: Principal, w: Window) -> BpPanel:
    """Each reading (systolic paired with its diastolic), categories, morning/evening."""
    return repo.memo(who, w.patient_id, w.key("bp"), lambda: _pairs(repo, who, w))


def weight(repo: Repository, who: Principal, w: Window) -> WeightPanel:
    """Daily weight, trailing 7-day average and change over the range."""
    def build() -> WeightPanel:
        rows = repo.buckets(who, w.patient_id, "body_mass", w.start, w.end)
        trend = weight_trend(rows.bucket, rows.mean) if len(rows) else None
        return WeightPanel(rows.bucket, rows.mean, trend)
    return repo.memo(who, w.patient_id, w.key("weight"), build)


def _baseline(repo: Repository, who: Principal, w: Window, metric: str) -> BaselinePanel:
    rows = repo.buckets(who, w.patient_id, metric, w.start - BASELINE_DAYS * DAY, w.end)
    band = baseline_band(rows.bucket, rows.mean, window_days=BASELINE_DAYS)
    shown = rows.bucket >= (w.start // DAY) * DAY
    latest = float(rows.mean[-1]) if len(rows) else None
    return BaselinePanel(
        metric, rows.bucket[shown], rows.mean[shown],
        Baseline(band.day[shown], band.median[shown], band.q25[shown], band.q75[shown]),
        latest,
    )


def heart(repo: Repository, who: Principal, w: Window) -> HeartPanel:
    """Daily heart-rate range; resting HR and HRV against the person's 90-day baseline."""
    def build() -> HeartPanel:
        hr = repo.buckets(who, w.patient_id, "heart_rate", w.start, w.end)
        return HeartPanel(
            DailyRange(hr.bucket, hr.mean, hr.min, hr.max),
            _baseline(repo, who, w, "resting_heart_rate"),
            _baseline(repo, who, w, "hrv_sdnn"),
        )
    return repo.memo(who, w.patient_id, w.key("heart"), build)


def steps(repo: Repository, who: Principal, w: Window) -> StepsPanel:
    """Daily steps after de-duplication, with the source that won each day."""
    def build() -> StepsPanel:
        rows = repo.buckets(who, w.patient_id, "steps", w.start, w.end)
        mean = float(rows.sum.mean()) if len(rows) else None
        return StepsPanel(rows.bucket, rows.sum, rows.source, mean)
    return repo.memo(who, w.patient_id, w.key("steps"), build)


def sleep(repo: Repository, who: Principal, w: Window) -> SleepPanel:
    """Minutes per stage for each night in the range."""
    def build() -> SleepPanel:
        found = repo.sleep_nights(who, w.patient_id, w.start, w.end)
        asleep = sum((found.minutes.get(code, 0) for code in (1, 3, 4, 5)),
                     np.zeros(len(found.nights)))
        mean = float(np.mean(asleep)) if len(found.nights) else None
        return SleepPanel(found.nights, found.minutes, mean)
    return repo.memo(who, w.patient_id, w.key("sleep"), build)


def hypnogram(repo: Repository, who: Principal, patient_id: int, night: int) -> Hypnogram:
    """One night's stages (the night filed under local date `night`), every segment."""
    def build() -> Hypnogram:
        rows = repo.readings(who, patient_id, "sleep_stage", night + NIGHT_START_S - DAY,
                             night + NIGHT_END_S + DAY)
        keep = (rows.t_local >= night + NIGHT_START_S) & (rows.t_local < night + NIGHT_END_S)
        return Hypnogram(night, rows.t_local[keep], rows.end_local[keep],
                         rows.value[keep].astype(np.int64))
    return repo.memo(who, patient_id, f"panel:hypnogram:{night}", build)


def spo2(repo: Repository, who: Principal, w: Window) -> Spo2Panel:
    """Nightly minimum and mean SpO2 (readings 22:00–08:00, dated by the morning)."""
    def build() -> Spo2Panel:
        rows = repo.readings(who, w.patient_id, "spo2", w.start, w.end)
        return Spo2Panel(nightly(rows.t_local, rows.value), int((rows.value < 90).sum()))
    return repo.memo(who, w.patient_id, w.key("spo2"), build)


def glucose(repo: Repository, who: Principal, w: Window) -> GlucosePanel | None:
    """AGP, time in ranges, GMI and CV; None when the range holds no glucose readings."""
    def build() -> GlucosePanel | None:
        rows = repo.readings(who, w.patient_id, "blood_glucose", w.start, w.end)
        if not len(rows):
            return None
        return GlucosePanel(agp(rows.t_local, rows.value), time_in_ranges(rows.value),
                            glucose_summary(rows.value))
    return repo.memo(who, w.patient_id, w.key("glucose"), build)


def heatmap(repo: Repository, who: Principal, w: Window, metric: str) -> tuple[np.ndarray, str]:
    """Weekday × hour matrix of a metric from its hourly rollups, and how cells combine."""
    how = "sum" if catalog.get(metric).aggregation == "sum" else "mean"

    def build() -> tuple[np.ndarray, str]:
        rows = repo.buckets(who, w.patient_id, metric, w.start, w.end, hourly=True)
        if how == "sum":
            # mean total per weekday-hour over the weeks of the range; an hour without a
            # bucket counted nothing, so divide by how often each weekday occurs
            total = weekday_hour(rows.bucket, rows.sum, how="sum")
            days = np.arange(w.start // DAY, (w.end - 1) // DAY + 1)
            per_weekday = np.bincount((days + 3) % 7, minlength=7).astype(float)
            return total / np.maximum(per_weekday, 1)[:, None], "sum"
        return weekday_hour(rows.bucket, rows.mean, how="mean"), "mean"
    return repo.memo(who, w.patient_id, w.key(f"heatmap:{metric}"), build)


# Every range panel in page order, for the callers that need them all (report, API).
PANELS = (("blood_pressure", blood_pressure), ("weight", weight), ("heart", heart),
          ("steps", steps), ("sleep", sleep), ("spo2", spo2), ("glucose", glucose))


def all_panels(repo: Repository, who: Principal, w: Window,
               progress: Callable[[int, int], None] = lambda done, total: None) -> dict:
    """Each panel's data over the window, by name (progress after each one)."""
    out = {}
    for i, (name, build) in enumerate(PANELS, start=1):
        out[name] = build(repo, who, w)
        progress(i, len(PANELS))
    return out
