"""Behaviour of the metric catalog that a user would notice: converted values, range labels,
blood-pressure categories, error messages and HealthKit mapping."""

import itertools
import math

import pytest

from data import catalog
from data.catalog import (
    ASLEEP_STAGES,
    SLEEP_STAGE_NAMES,
    SLEEP_STAGES,
    UnknownMetric,
    UnknownUnit,
    all_metrics,
    band_for,
    bp_category,
    convert,
    for_healthkit,
    get,
)

EXPECTED_CODES = {
    "heart_rate", "resting_heart_rate", "hrv_sdnn", "steps", "active_energy", "distance",
    "body_mass", "body_fat", "bmi", "bp_systolic", "bp_diastolic", "spo2",
    "respiratory_rate", "body_temperature", "blood_glucose", "sleep_stage", "vo2max",
}


def test_catalog_holds_exactly_the_agreed_metrics_once_each() -> None:
    codes = [m.code for m in all_metrics()]
    assert len(codes) == len(set(codes))
    assert set(codes) == EXPECTED_CODES


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected", "digits"),
    [
        ("body_mass", 150, "lb", 68.04, 2),
        ("body_mass", 10, "st", 63.50, 2),
        ("active_energy", 100, "kJ", 23.90, 2),
        ("active_energy", 250, "Cal", 250.0, 6),
        ("distance", 5, "mi", 8.047, 3),
        ("distance", 1500, "m", 1.5, 6),
        ("body_temperature", 98.6, "degF", 37.0, 6),
        ("body_temperature", 212, "°F", 100.0, 6),
        ("body_temperature", 36.6, "degC", 36.6, 6),
        ("blood_glucose", 5.5, "mmol<180.1558800000541>/L", 99.09, 2),
        ("blood_glucose", 5.5, "mmol/L", 99.09, 2),
        ("spo2", 0.97, "fraction", 97.0, 6),
        ("spo2", 97, "%", 97.0, 6),
        ("body_fat", 0.215, "fraction", 21.5, 6),
        ("heart_rate", 62, "count/min", 62.0, 6),
        ("resting_heart_rate", 55, "count/min", 55.0, 6),
        ("respiratory_rate", 14.5, "count/min", 14.5, 6),
        ("hrv_sdnn", 48, "ms", 48.0, 6),
        ("vo2max", 42.3, "mL/min·kg", 42.3, 6),
        ("vo2max", 42.3, "mL/kg/min", 42.3, 6),
        ("steps", 8123, "count", 8123.0, 6),
        ("bmi", 23.4, "count", 23.4, 6),
    ],
)
def test_convert_gives_known_values_in_canonical_unit(
    code: str, value: float, unit: str, expected: float, digits: int
) -> None:
    assert round(convert(code, value, unit), digits) == expected


def test_unknown_unit_error_names_metric_unit_and_accepted_units() -> None:
    with pytest.raises(UnknownUnit) as excinfo:
        convert("body_mass", 70, "lbs")
    message = str(excinfo.value)
    assert "body_mass" in message
    assert "'lbs'" in message
    assert "'kg'" in message and "'lb'" in message and "'st'" in message
    assert isinstance(excinfo.value, ValueError)


def test_unit_spellings_are_not_guessed() -> None:
    # A lower-case "mmol/l" or a bare "F" must fail loudly rather than store a wrong value.
    with pytest.raises(UnknownUnit):
        convert("blood_glucose", 5.5, "mmol/l")
    with pytest.raises(UnknownUnit):
        convert("body_temperature", 98.6, "F")


def test_unknown_metric_error_names_code_and_lists_valid_ones() -> None:
    with pytest.raises(UnknownMetric) as excinfo:
        get("heartrate")
    message = str(excinfo.value)
    assert "'heartrate'" in message
    assert "heart_rate" in message and "blood_glucose" in message
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, KeyError)
    with pytest.raises(UnknownMetric):
        convert("heartrate", 60, "bpm")


@pytest.mark.parametrize("metric", all_metrics(), ids=lambda m: m.code)
def test_every_metric_accepts_its_canonical_unit_unchanged(metric: catalog.Metric) -> None:
    assert metric.canonical_unit in metric.units
    assert convert(metric.code, 12.5, metric.canonical_unit) == 12.5
    assert get(metric.code) is metric


def test_unit_tables_cannot_be_changed_at_runtime() -> None:
    with pytest.raises(TypeError):
        get("body_mass").units["pound"] = lambda v: v  # type: ignore[index]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "label"),
    [
        (118, 85, "Stage 1 hypertension"),
        (185, 70, "Hypertensive crisis"),
        (125, 79, "Elevated"),
        (119, 79, "Normal"),
        (120, 80, "Stage 1 hypertension"),
        (125, 85, "Stage 1 hypertension"),
        (135, 95, "Stage 2 hypertension"),
        (140, 70, "Stage 2 hypertension"),
        (180, 120, "Stage 2 hypertension"),
        (181, 80, "Hypertensive crisis"),
        (130, 121, "Hypertensive crisis"),
    ],
)
def test_bp_category_takes_the_higher_category(
    systolic: float, diastolic: float, label: str
) -> None:
    assert bp_category(systolic, diastolic).label == label


def test_bp_category_rejects_missing_numbers() -> None:
    with pytest.raises(ValueError):
        bp_category(math.nan, 80)


@pytest.mark.parametrize(
    ("value", "label", "severity"),
    [
        (53.9, "Very low", "danger"),
        (54, "Low", "warning"),
        (69.9, "Low", "warning"),
        (70, "Target range", "normal"),
        (180, "Target range", "normal"),
        (180.5, "High", "caution"),
        (250, "High", "caution"),
        (251, "Very high", "danger"),
    ],
)
def test_glucose_band_boundaries(value: float, label: str, severity: str) -> None:
    band = band_for("blood_glucose", value)
    assert band is not None
    assert (band.label, band.severity) == (label, severity)


def test_band_for_works_on_converted_values() -> None:
    # A HealthKit SpO2 of 0.93 is 93 %, below the typical 95–100 range.
    band = band_for("spo2", convert("spo2", 0.93, "fraction"))
    assert band is not None and band.severity == "caution"
    assert band_for("spo2", 89).severity == "warning"  # type: ignore[union-attr]
    assert band_for("body_temperature", 38.0).label == "Fever"  # type: ignore[union-attr]


def test_values_without_a_band_are_not_labelled() -> None:
    assert band_for("heart_rate", 150) is None  # exercise heart rate is not flagged
    assert band_for("hrv_sdnn", 20) is None
    assert band_for("steps", 3000) is None
    assert band_for("blood_glucose", math.nan) is None


@pytest.mark.parametrize(
    "metric", [m for m in all_metrics() if m.reference], ids=lambda m: m.code
)
def test_every_reference_range_cites_a_source(metric: catalog.Metric) -> None:
    assert metric.reference is not None
    assert metric.reference.source.strip()


@pytest.mark.parametrize(
    "metric", [m for m in all_metrics() if m.reference], ids=lambda m: m.code
)
def test_band_edges_belong_to_exactly_one_band(metric: catalog.Metric) -> None:
    # Adjacent bands must meet without gaps or overlaps, so one reading gets one label.
    assert metric.reference is not None
    bands = metric.reference.bands
    for lower, upper in itertools.pairwise(bands):
        assert lower.high == upper.low
        assert lower.high is not None
        edge = lower.high
        assert [b.label for b in bands if b.contains(edge)] in ([lower.label], [upper.label])


@pytest.mark.parametrize(
    ("hk_type", "code"),
    [
        ("HKQuantityTypeIdentifierHeartRate", "heart_rate"),
        ("HKQuantityTypeIdentifierStepCount", "steps"),
        ("HKQuantityTypeIdentifierBloodPressureSystolic", "bp_systolic"),
        ("HKQuantityTypeIdentifierBloodPressureDiastolic", "bp_diastolic"),
        ("HKCategoryTypeIdentifierSleepAnalysis", "sleep_stage"),
        ("HKQuantityTypeIdentifierOxygenSaturation", "spo2"),
        ("HKQuantityTypeIdentifierBloodGlucose", "blood_glucose"),
    ],
)
def test_healthkit_types_map_to_metrics(hk_type: str, code: str) -> None:
    metric = for_healthkit(hk_type)
    assert metric is not None and metric.code == code


def test_unmapped_healthkit_type_is_none() -> None:
    assert for_healthkit("HKQuantityTypeIdentifierDietaryCaffeine") is None


def test_in_bed_and_awake_never_count_as_asleep() -> None:
    assert set(SLEEP_STAGES) == {0, 1, 2, 3, 4, 5}
    assert set(ASLEEP_STAGES) == {1, 3, 4, 5}
    assert SLEEP_STAGES[0] == "In bed" and SLEEP_STAGES[2] == "Awake"
    assert {SLEEP_STAGE_NAMES["HKCategoryValueSleepAnalysisAsleep"]} <= ASLEEP_STAGES
    assert SLEEP_STAGE_NAMES["HKCategoryValueSleepAnalysisInBed"] not in ASLEEP_STAGES


def test_loinc_codes_for_blood_pressure_are_not_swapped_with_heart_rate() -> None:
    # An older public HealthKit→LOINC table put diastolic under 8867-4 (heart rate).
    assert get("bp_diastolic").loinc == "8462-4"
    assert get("bp_systolic").loinc == "8480-6"
    assert get("heart_rate").loinc == "8867-4"
