"""The one list of metrics HealthDash knows: units, codes, sampling and reference ranges.

Importers, rollups, charts and the FHIR export all need to agree on what "steps" or
"glucose" means, which unit it is stored in and how it is summarised; this module is
that agreement. It is pure data plus lookups (stdlib only, no I/O) so every layer can
import it cheaply and tests can pin its behaviour.

Values are stored in each metric's canonical unit; `convert` is the only way in.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from data.reference_ranges import (
    BMI,
    BODY_TEMPERATURE,
    BP_CATEGORY_ORDER,
    BP_DIASTOLIC,
    BP_SYSTOLIC,
    GLUCOSE,
    HRV_SDNN,
    RESPIRATORY_RATE,
    RESTING_HEART_RATE,
    SLEEP,
    SPO2,
    STEPS,
    ReferenceBand,
    ReferenceRange,
)

__all__ = [
    "ASLEEP_STAGES", "SLEEP_STAGES", "SLEEP_STAGE_NAMES", "Aggregation", "Kind", "Metric",
    "ReferenceBand", "ReferenceRange", "UnknownMetric", "UnknownUnit", "all_metrics",
    "band_for", "bp_category", "convert", "for_healthkit", "get",
]

Kind = Literal["instant", "cumulative", "interval", "category"]
Aggregation = Literal["mean", "sum", "last", "stage_minutes"]
Converter = Callable[[float], float]


class UnknownMetric(KeyError, ValueError):
    """A metric code not in the catalog.

    A KeyError because it is a failed lookup, a ValueError because the code usually comes
    from user input or a URL; callers may catch either.
    """

    def __str__(self) -> str:
        # KeyError would repr() the message, wrapping it in quotes.
        return str(self.args[0]) if self.args else ""


class UnknownUnit(ValueError):
    """A unit the metric cannot convert from; storing it unconverted would corrupt data."""


@dataclass(frozen=True)
class Metric:
    """Everything the app needs to store, summarise, display and export one metric."""

    code: str
    name: str
    canonical_unit: str
    # Accepted input unit -> converter into the canonical unit (canonical maps to identity).
    # Left out of the hash because a mapping is unhashable; equality still compares it.
    units: Mapping[str, Converter] = field(hash=False)
    loinc: str | None
    kind: Kind
    aggregation: Aggregation
    typical_interval_s: int
    decimals: int
    reference: ReferenceRange | None
    healthkit_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy of the unit table, so no caller can add units at runtime.
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))


# --- Converters ----------------------------------------------------------------------------


def _identity(value: float) -> float:
    """For unit spellings that already mean the canonical unit."""
    return value


def _times(factor: float) -> Converter:
    """A converter for units that differ from the canonical one by a constant factor."""

    def convert(value: float) -> float:
        return value * factor

    return convert


def _fahrenheit_to_celsius(value: float) -> float:
    """Temperature needs an offset as well as a factor."""
    return (value - 32.0) * 5.0 / 9.0


# HealthKit writes glucose in mmol/L with the molar mass embedded in the unit string
# (HKUnitMolarMassBloodGlucose, g/mol). mmol/L × g/mol = mg/L; /10 gives mg/dL.
_GLUCOSE_MOLAR_MASS = 180.1558800000541
_MMOL_L_TO_MG_DL = _times(_GLUCOSE_MOLAR_MASS / 10)

# HealthKit stores percentages as fractions (0.97 for 97 %) but labels them "%". The Apple
# importer must therefore map HealthKit's "%" to "fraction"; "%" here means a real percent
# (97), as sent by Withings, Health Auto Export and CSV files.
_PERCENT_UNITS: Mapping[str, Converter] = {"%": _identity, "fraction": _times(100.0)}
_HEART_RATE_UNITS: Mapping[str, Converter] = {"bpm": _identity, "count/min": _identity}


# Display order: heart and vitals, glucose, activity, sleep, body composition.
_METRICS: tuple[Metric, ...] = (
    Metric(
        code="heart_rate", name="Heart rate", canonical_unit="bpm", units=_HEART_RATE_UNITS,
        loinc="8867-4", kind="instant", aggregation="mean", typical_interval_s=60,
        decimals=0,
        # No band: these samples include exercise, where 150 bpm is expected; 60–100 holds
        # only at rest, and resting_heart_rate carries that band.
        reference=None, healthkit_types=("HKQuantityTypeIdentifierHeartRate",),
    ),
    Metric(
        code="resting_heart_rate", name="Resting heart rate", canonical_unit="bpm",
        units=_HEART_RATE_UNITS, loinc="40443-4", kind="instant", aggregation="mean",
        typical_interval_s=86400, decimals=0, reference=RESTING_HEART_RATE,
        healthkit_types=("HKQuantityTypeIdentifierRestingHeartRate",),
    ),
    Metric(
        code="hrv_sdnn", name="Heart rate variability (SDNN)", canonical_unit="ms",
        units={"ms": _identity}, loinc="80404-7", kind="instant", aggregation="mean",
        typical_interval_s=3600, decimals=0, reference=HRV_SDNN,
        healthkit_types=("HKQuantityTypeIdentifierHeartRateVariabilitySDNN",),
    ),
    Metric(
        code="bp_systolic", name="Systolic blood pressure", canonical_unit="mmHg",
        units={"mmHg": _identity}, loinc="8480-6", kind="instant", aggregation="mean",
        typical_interval_s=3600 * 12, decimals=0, reference=BP_SYSTOLIC,
        healthkit_types=("HKQuantityTypeIdentifierBloodPressureSystolic",),
    ),
    Metric(
        code="bp_diastolic", name="Diastolic blood pressure", canonical_unit="mmHg",
        units={"mmHg": _identity}, loinc="8462-4", kind="instant", aggregation="mean",
        typical_interval_s=3600 * 12, decimals=0, reference=BP_DIASTOLIC,
        healthkit_types=("HKQuantityTypeIdentifierBloodPressureDiastolic",),
    ),
    Metric(
        code="spo2", name="Blood oxygen (SpO2)", canonical_unit="%", units=_PERCENT_UNITS,
        loinc="59408-5", kind="instant", aggregation="mean", typical_interval_s=3600,
        decimals=0, reference=SPO2,
        healthkit_types=("HKQuantityTypeIdentifierOxygenSaturation",),
    ),
    Metric(
        code="respiratory_rate", name="Respiratory rate", canonical_unit="breaths/min",
        units={"breaths/min": _identity, "count/min": _identity}, loinc="9279-1",
        kind="instant", aggregation="mean", typical_interval_s=300, decimals=1,
        reference=RESPIRATORY_RATE,
        healthkit_types=("HKQuantityTypeIdentifierRespiratoryRate",),
    ),
    Metric(
        code="body_temperature", name="Body temperature", canonical_unit="°C",
        units={
            "°C": _identity, "degC": _identity,
            "°F": _fahrenheit_to_celsius, "degF": _fahrenheit_to_celsius,
        },
        loinc="8310-5", kind="instant", aggregation="mean", typical_interval_s=86400,
        decimals=1, reference=BODY_TEMPERATURE,
        # AppleSleepingWristTemperature is skin temperature, degrees below core, and would
        # sit permanently under the range, so it is not mapped here.
        healthkit_types=("HKQuantityTypeIdentifierBodyTemperature",),
    ),
    Metric(
        code="blood_glucose", name="Blood glucose", canonical_unit="mg/dL",
        units={
            "mg/dL": _identity, "mmol/L": _MMOL_L_TO_MG_DL,
            "mmol<180.1558800000541>/L": _MMOL_L_TO_MG_DL,
        },
        # 2339-0 is glucose in blood; 41653-7 (by glucometer) is the alternative.
        loinc="2339-0", kind="instant", aggregation="mean", typical_interval_s=300,
        decimals=0, reference=GLUCOSE,
        healthkit_types=("HKQuantityTypeIdentifierBloodGlucose",),
    ),
    Metric(
        code="steps", name="Steps", canonical_unit="count", units={"count": _identity},
        loinc="55423-8", kind="cumulative", aggregation="sum", typical_interval_s=60,
        decimals=0, reference=STEPS,
        healthkit_types=("HKQuantityTypeIdentifierStepCount",),
    ),
    Metric(
        code="active_energy", name="Active energy", canonical_unit="kcal",
        # "Cal" (capital C) is the food calorie, i.e. the kilocalorie.
        units={"kcal": _identity, "Cal": _identity, "kJ": _times(1 / 4.184)},
        loinc="41981-2", kind="cumulative", aggregation="sum", typical_interval_s=60,
        decimals=0, reference=None,
        healthkit_types=("HKQuantityTypeIdentifierActiveEnergyBurned",),
    ),
    Metric(
        code="distance", name="Walking + running distance", canonical_unit="km",
        units={"km": _identity, "mi": _times(1.609344), "m": _times(0.001)},
        # LOINC 5430-3 is unverified (CLINICAL.md marks it "check"); confirm at loinc.org
        # before the FHIR export relies on it.
        loinc="5430-3", kind="cumulative", aggregation="sum", typical_interval_s=60,
        decimals=2, reference=None,
        # Cycling/swimming distance are separate HealthKit types; adding them here would
        # mix them into a walking total.
        healthkit_types=("HKQuantityTypeIdentifierDistanceWalkingRunning",),
    ),
    Metric(
        code="vo2max", name="VO2 max", canonical_unit="mL/kg/min",
        units={"mL/kg/min": _identity, "mL/min·kg": _identity},
        # No LOINC code confirmed for a wearable VO2 max estimate.
        loinc=None, kind="instant", aggregation="mean", typical_interval_s=86400,
        decimals=1, reference=None,
        healthkit_types=("HKQuantityTypeIdentifierVO2Max",),
    ),
    Metric(
        # Raw samples hold the HealthKit stage code (see SLEEP_STAGES) over an interval;
        # rollups hold minutes per stage, hence the canonical unit.
        code="sleep_stage", name="Sleep", canonical_unit="min", units={"min": _identity},
        loinc="93832-4", kind="category", aggregation="stage_minutes",
        typical_interval_s=30 * 60, decimals=0, reference=SLEEP,
        healthkit_types=("HKCategoryTypeIdentifierSleepAnalysis",),
    ),
    Metric(
        code="body_mass", name="Weight", canonical_unit="kg",
        units={"kg": _identity, "lb": _times(0.45359237), "st": _times(6.35029318)},
        loinc="29463-7", kind="instant", aggregation="mean", typical_interval_s=86400,
        decimals=1, reference=None,
        healthkit_types=("HKQuantityTypeIdentifierBodyMass",),
    ),
    Metric(
        code="body_fat", name="Body fat", canonical_unit="%", units=_PERCENT_UNITS,
        loinc="41982-0", kind="instant", aggregation="mean", typical_interval_s=86400,
        decimals=1, reference=None,
        healthkit_types=("HKQuantityTypeIdentifierBodyFatPercentage",),
    ),
    Metric(
        code="bmi", name="Body mass index", canonical_unit="kg/m²",
        # HealthKit calls the BMI unit "count".
        units={"kg/m²": _identity, "count": _identity}, loinc="39156-5", kind="instant",
        aggregation="mean", typical_interval_s=86400, decimals=1, reference=BMI,
        healthkit_types=("HKQuantityTypeIdentifierBodyMassIndex",),
    ),
)


def _index_by_code(metrics: tuple[Metric, ...]) -> Mapping[str, Metric]:
    """Fail at import, not in production, if a code is reused or a unit table is broken."""
    index: dict[str, Metric] = {}
    for metric in metrics:
        if metric.code in index:
            raise RuntimeError(f"duplicate metric code {metric.code!r}")
        if metric.canonical_unit not in metric.units:
            raise RuntimeError(f"{metric.code}: canonical unit missing from its units")
        index[metric.code] = metric
    return MappingProxyType(index)


def _index_by_healthkit(metrics: tuple[Metric, ...]) -> Mapping[str, Metric]:
    """One HealthKit type must land in one metric, or imports would double-count it."""
    index: dict[str, Metric] = {}
    for metric in metrics:
        for hk_type in metric.healthkit_types:
            if hk_type in index:
                raise RuntimeError(f"HealthKit type {hk_type!r} mapped twice")
            index[hk_type] = metric
    return MappingProxyType(index)


_BY_CODE = _index_by_code(_METRICS)
_BY_HEALTHKIT = _index_by_healthkit(_METRICS)

# HKCategoryValueSleepAnalysis raw values. InBed intervals overlap the stage intervals, so
# time asleep is the sum of ASLEEP_STAGES only, never InBed plus stages.
SLEEP_STAGES: Mapping[int, str] = MappingProxyType(
    {0: "In bed", 1: "Asleep (unspecified)", 2: "Awake", 3: "Core", 4: "Deep", 5: "REM"}
)
ASLEEP_STAGES: frozenset[int] = frozenset({1, 3, 4, 5})
# export.xml writes the enum name, not the number; "…Asleep" is the pre-iOS 16 spelling of
# AsleepUnspecified.
SLEEP_STAGE_NAMES: Mapping[str, int] = MappingProxyType(
    {
        "HKCategoryValueSleepAnalysisInBed": 0,
        "HKCategoryValueSleepAnalysisAsleepUnspecified": 1,
        "HKCategoryValueSleepAnalysisAsleep": 1,
        "HKCategoryValueSleepAnalysisAwake": 2,
        "HKCategoryValueSleepAnalysisAsleepCore": 3,
        "HKCategoryValueSleepAnalysisAsleepDeep": 4,
        "HKCategoryValueSleepAnalysisAsleepREM": 5,
    }
)


def get(code: str) -> Metric:
    """The metric for `code`; the error lists valid codes so a typo is quick to fix."""
    try:
        return _BY_CODE[code]
    except KeyError:
        valid = ", ".join(_BY_CODE)
        raise UnknownMetric(f"unknown metric {code!r}; valid metrics: {valid}") from None


def all_metrics() -> tuple[Metric, ...]:
    """Every metric, in the order menus and overview pages show them."""
    return _METRICS


def convert(code: str, value: float, unit: str) -> float:
    """`value` in `unit` expressed in the metric's canonical unit.

    Unit spellings must match exactly: guessing ("%" vs fraction) is how data gets
    silently scaled by 100, so an unknown spelling raises instead.
    """
    metric = get(code)
    try:
        converter = metric.units[unit]
    except KeyError:
        accepted = ", ".join(repr(u) for u in metric.units)
        raise UnknownUnit(
            f"{metric.name} ({code}) cannot take values in unit {unit!r}; accepted: {accepted}"
        ) from None
    return converter(value)


def for_healthkit(hk_type: str) -> Metric | None:
    """The metric a HealthKit type identifier feeds, or None for types we do not import."""
    return _BY_HEALTHKIT.get(hk_type)


def band_for(code: str, value: float) -> ReferenceBand | None:
    """The reference band a canonical-unit value falls in; None if unranged or unlabelled."""
    reference = get(code).reference
    return None if reference is None else reference.band_for(value)


def bp_category(systolic: float, diastolic: float) -> ReferenceBand:
    """ACC/AHA category of one reading: the higher category of its two numbers wins.

    Returns the band of the number that decided it (systolic on a tie), so `low`/`high`
    are in that number's scale and `label`/`severity` describe the whole reading.
    """
    if not (math.isfinite(systolic) and math.isfinite(diastolic)):
        raise ValueError(f"blood pressure must be finite numbers, got {systolic}/{diastolic}")
    sys_band = BP_SYSTOLIC.band_for(systolic)
    dia_band = BP_DIASTOLIC.band_for(diastolic)
    # Both band sets are open at both ends, so every finite number has a band.
    assert sys_band is not None and dia_band is not None
    if BP_CATEGORY_ORDER.index(dia_band.label) > BP_CATEGORY_ORDER.index(sys_band.label):
        return dia_band
    return sys_band
