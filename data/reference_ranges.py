"""Adult reference bands for the metric catalog, each with the citation the UI shows.

Kept apart from `data.catalog` so the clinical numbers and their sources can be reviewed
on one page, without unit plumbing in the way. Every number here comes from
docs/CLINICAL.md; bands carry values in the metric's canonical unit.

Bands are ordered from low to high and never overlap: a value belongs to at most one band,
so a chart never shows two labels for one reading. Because the sources mix "< 70" with
"70–180" and "> 180", each band says which of its ends is inclusive.
"""

import math
from dataclasses import dataclass
from typing import Literal

Severity = Literal["normal", "caution", "warning", "danger"]


@dataclass(frozen=True)
class ReferenceBand:
    """One labelled interval of a reference range, in the metric's canonical unit.

    `low`/`high` of None mean the band is open on that side. By default a band is
    half-open, [low, high), which matches how guidelines write "120–129" for readings
    that are really continuous; the inclusive flags handle the ends written as
    "≤ 180" or "> 250".
    """

    label: str
    low: float | None
    high: float | None
    severity: Severity
    low_inclusive: bool = True
    high_inclusive: bool = False

    def contains(self, value: float) -> bool:
        """Whether `value` falls in this band; NaN is in no band, so it is never labelled."""
        if math.isnan(value):
            return False
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_inclusive))
        )


@dataclass(frozen=True)
class ReferenceRange:
    """The bands for one metric plus the citation shown beside them.

    `bands` may be empty when the source gives guidance but no range that fits a person
    (steps, HRV, sleep); the note then carries the guidance.
    """

    bands: tuple[ReferenceBand, ...]
    source: str
    note: str = ""

    def band_for(self, value: float) -> ReferenceBand | None:
        """The band holding `value`, or None when the source says nothing about it."""
        return next((band for band in self.bands if band.contains(value)), None)


# --- Blood pressure ------------------------------------------------------------------------
# 2017 ACC/AHA guideline, categories kept in the 2025 AHA/ACC update. The guideline defines
# each category on both numbers; per-number bands let each line of a chart be shaded, and
# `data.catalog.bp_category` combines them ("the higher category wins"). Elevated exists
# only for systolic: a diastolic under 80 is Normal whatever the systolic.
# "Hypertensive crisis" (> 180 and/or > 120) is the AHA's patient-facing name for what the
# 2025 guideline calls severe hypertension; 180 itself is still Stage 2.
_BP_SOURCE = (
    "2017 ACC/AHA high blood pressure guideline (Whelton PK et al., Hypertension "
    "2018;71:e13–e115); categories kept in the 2025 AHA/ACC guideline"
)
_BP_NOTE = (
    "A reading takes the higher category of its two numbers. Clinicians judge averages "
    "over 7 or more days, not single readings."
)
BP_NORMAL = "Normal"
BP_ELEVATED = "Elevated"
BP_STAGE_1 = "Stage 1 hypertension"
BP_STAGE_2 = "Stage 2 hypertension"
BP_CRISIS = "Hypertensive crisis"
BP_CATEGORY_ORDER: tuple[str, ...] = (BP_NORMAL, BP_ELEVATED, BP_STAGE_1, BP_STAGE_2, BP_CRISIS)

BP_SYSTOLIC = ReferenceRange(
    bands=(
        ReferenceBand(BP_NORMAL, None, 120, "normal"),
        ReferenceBand(BP_ELEVATED, 120, 130, "caution"),
        ReferenceBand(BP_STAGE_1, 130, 140, "caution"),
        ReferenceBand(BP_STAGE_2, 140, 180, "warning", high_inclusive=True),
        ReferenceBand(BP_CRISIS, 180, None, "danger", low_inclusive=False),
    ),
    source=_BP_SOURCE,
    note=_BP_NOTE,
)
BP_DIASTOLIC = ReferenceRange(
    bands=(
        ReferenceBand(BP_NORMAL, None, 80, "normal"),
        ReferenceBand(BP_STAGE_1, 80, 90, "caution"),
        ReferenceBand(BP_STAGE_2, 90, 120, "warning", high_inclusive=True),
        ReferenceBand(BP_CRISIS, 120, None, "danger", low_inclusive=False),
    ),
    source=_BP_SOURCE,
    note=_BP_NOTE,
)

# --- Glucose (mg/dL) -----------------------------------------------------------------------
# Time-in-range consensus: < 54 level 2 low, 54–69 level 1 low, 70–180 in range,
# 181–250 level 1 high, > 250 level 2 high. Readings are continuous once converted from
# mmol/L, so 180.5 is above range (the consensus counts "> 180") and 250 is still level 1.
GLUCOSE = ReferenceRange(
    bands=(
        ReferenceBand("Very low", None, 54, "danger"),
        ReferenceBand("Low", 54, 70, "warning"),
        ReferenceBand("Target range", 70, 180, "normal", high_inclusive=True),
        ReferenceBand("High", 180, 250, "caution", low_inclusive=False, high_inclusive=True),
        ReferenceBand("Very high", 250, None, "danger", low_inclusive=False),
    ),
    source=(
        "International Consensus on Time in Range: Battelino T et al., Clinical targets "
        "for continuous glucose monitoring data interpretation, Diabetes Care "
        "2019;42(8):1593–1603"
    ),
    note=(
        "Targets for most adults with diabetes: more than 70% of readings in range, under 4% "
        "below 70 (under 1% below 54), under 25% above 180 (under 5% above 250)."
    ),
)

# --- Heart and breathing -------------------------------------------------------------------
# Bands outside a "typical" range are its complement, not extra thresholds: they only say
# a value lies outside what the source calls typical, hence "caution" and neutral labels.
RESTING_HEART_RATE = ReferenceRange(
    bands=(
        ReferenceBand("Below typical range", None, 60, "caution"),
        ReferenceBand("Typical range", 60, 100, "normal", high_inclusive=True),
        ReferenceBand("Above typical range", 100, None, "caution", low_inclusive=False),
    ),
    source="American Heart Association: adult resting heart rate 60–100 bpm",
    note="Lower in trained people — compare with your own baseline.",
)

SPO2 = ReferenceRange(
    bands=(
        ReferenceBand("Low", None, 90, "warning"),
        ReferenceBand("Below typical range", 90, 95, "caution"),
        # 100 is the physical ceiling; anything above is bad data and stays unlabelled.
        ReferenceBand("Typical range", 95, 100, "normal", high_inclusive=True),
    ),
    source="Common clinical practice (e.g. WHO Pulse Oximetry Training Manual)",
    note="Typical at rest; wrist sensors read less reliably than fingertip oximeters.",
)

RESPIRATORY_RATE = ReferenceRange(
    bands=(
        ReferenceBand("Below typical range", None, 12, "caution"),
        ReferenceBand("Typical range", 12, 20, "normal", high_inclusive=True),
        ReferenceBand("Above typical range", 20, None, "caution", low_inclusive=False),
    ),
    source="Common clinical practice: 12–20 breaths/min for adults at rest",
)

# --- Body ----------------------------------------------------------------------------------
BODY_TEMPERATURE = ReferenceRange(
    bands=(
        ReferenceBand("Below typical range", None, 36.1, "caution"),
        ReferenceBand("Typical range", 36.1, 37.2, "normal", high_inclusive=True),
        ReferenceBand("Above typical range", 37.2, 38.0, "caution", low_inclusive=False),
        ReferenceBand("Fever", 38.0, None, "warning"),
    ),
    source="Common clinical practice: about 36.1–37.2 °C typical, fever at 38.0 °C or above",
    note="Readings vary with where and when the temperature is taken.",
)

BMI = ReferenceRange(
    bands=(
        ReferenceBand("Underweight", None, 18.5, "caution"),
        ReferenceBand("Normal weight", 18.5, 25, "normal"),
        ReferenceBand("Overweight", 25, 30, "caution"),
        ReferenceBand("Obesity", 30, None, "warning"),
    ),
    source="World Health Organization BMI classification for adults",
    note="Adults only; BMI does not tell fat from muscle.",
)

# --- Guidance without bands ----------------------------------------------------------------
# Paluch 2022 found the benefit levelling off at different counts by age, not at one
# threshold, so a single "too few steps" band would misstate it; the note says what it found.
STEPS = ReferenceRange(
    bands=(),
    source=(
        "Paluch AE et al., Daily steps and all-cause mortality: a meta-analysis of 15 "
        "international cohorts, Lancet Public Health 2022;7(3):e219–e228"
    ),
    note=(
        "No normal range. More steps a day were linked to lower mortality, levelling off at "
        "about 6,000–8,000 a day for adults aged 60 and over and 8,000–10,000 for younger "
        "adults."
    ),
)

HRV_SDNN = ReferenceRange(
    bands=(),
    source="No population range fits an individual; HealthDash personal-baseline method",
    note=(
        "Compare with your own baseline: the median and middle half of your previous "
        "60–90 days."
    ),
)

# Sleep-stage values are HealthKit stage codes, and only their rollups are minutes, so a
# band here would misread a stage code as a duration; the 7-hour guidance is a note.
SLEEP = ReferenceRange(
    bands=(),
    source=(
        "AASM/SRS joint consensus statement: Watson NF et al., Recommended amount of sleep "
        "for a healthy adult, Sleep 2015;38(6):843–844"
    ),
    note="Adults: 7 hours (420 minutes) or more of sleep a night, on a regular basis.",
)
