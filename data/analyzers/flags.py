"""Triage flags for the clinician's patient list: out of range, rapid change, missing data.

Each rule is a named threshold with its source or rationale. Flags point a clinician at a
patient to look at; they are not diagnoses, and each `detail` says what was seen, with
numbers and units, so it can be checked against the charts.
"""

import math
from dataclasses import dataclass

from data.analyzers.baseline import BaselineComparison
from data.analyzers.glucose import TimeInRanges
from data.catalog import bp_category
from data.reference_ranges import BP_CATEGORY_ORDER, BP_CRISIS, BP_STAGE_2

HIGH, MEDIUM, LOW = 3, 2, 1

# Missing data. Clinicians judge BP and resting HR on ≥ 7-day averages (docs/CLINICAL.md;
# Stergiou 2021), so 7 days without data empties every 7-day figure on the row: high.
# 3 days (more than a weekend or a flat battery) is worth a low-priority nudge.
MISSING_DAYS_LOW = 3.0
MISSING_DAYS_HIGH = 7.0

# Blood pressure: ACC/AHA categories (Whelton 2018) via data.catalog, applied to the latest
# reading and to the 7-day mean. Stage 2 → medium; hypertensive crisis (> 180 and/or > 120
# mmHg) → high, since the AHA advises prompt re-measurement and care for such a reading.
# Stage 1 is not flagged: common, and managed at the next routine review.
BP_MEDIUM_CATEGORY = BP_STAGE_2
BP_HIGH_CATEGORY = BP_CRISIS

# Resting heart rate: a 7-day mean ≥ 2 SD above the person's own 90-day baseline. Sustained
# rises over one's own baseline accompany infection and decompensation (Radin JM et al.,
# Lancet Digit Health 2020;2:e85–e93; Quer G et al., Nat Med 2021;27:73–77). 2 SD is the
# usual control-chart warning limit. The rise must also be ≥ 5 bpm, so that a very steady
# baseline (SD of 1 bpm) does not flag changes inside consumer-sensor noise, and the recent
# mean needs ≥ 3 days of data (design choice, not from a guideline).
RHR_DEVIATION_SD = 2.0
RHR_MIN_RISE_BPM = 5.0
RHR_MIN_RECENT_DAYS = 3

# Weight. Heart-failure self-care guidance asks patients to act on a sudden gain: ESC 2021
# heart failure guideline (McDonagh TA et al., Eur Heart J 2021;42:3599–3726), "> 2 kg in
# 3 days"; AHA patient guidance, 2–3 lb in a day or 5 lb (2.3 kg) in a week. A gain of more
# than 2 kg over 7 days is the more sensitive reading of both → medium.
WEIGHT_GAIN_7D_KG = 2.0
# More than 5% change in 30 days, either way: loss > 5% is a malnutrition criterion even
# over 6 months (GLIM, Cederholm T et al., Clin Nutr 2019;38:1–9); a gain that fast
# suggests fluid. Needs the current weight (`weight_kg`) to turn kg into percent.
WEIGHT_CHANGE_30D_PCT = 5.0

# SpO2 (lowest in 7 days). < 90% is hypoxaemia (WHO Pulse Oximetry Training Manual, 2011)
# → medium; ≤ 88% is the level at which long-term oxygen is indicated (GOLD report; NOTT
# trial) → high below 88. Wrist sensors read minimums unreliably, said in the detail.
SPO2_MEDIUM_BELOW = 90.0
SPO2_HIGH_BELOW = 88.0

# Glucose, on the consensus targets (Battelino 2019), hypoglycaemia first as the consensus
# puts it: time below 54 ≥ 1% → high; below 70 ≥ 4% → medium. Time in range ≤ 70% → low,
# and < 50% (below even the consensus target for older / high-risk people) → medium.
GLUCOSE_BELOW_54_PCT = 1.0
GLUCOSE_BELOW_70_PCT = 4.0
GLUCOSE_TIR_TARGET_PCT = 70.0
GLUCOSE_TIR_HIGH_RISK_PCT = 50.0


@dataclass(frozen=True)
class Flag:
    """One triage flag. `severity`: 3 high, 2 medium, 1 low. `kind`: "missing_data",
    "out_of_range" or "rapid_change"."""

    code: str
    severity: int
    label: str
    detail: str
    kind: str = ""


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _bp_rank(bp: tuple[float, float] | None) -> tuple[int, str]:
    if bp is None or not (_ok(bp[0]) and _ok(bp[1])):
        return -1, ""
    label = bp_category(*bp).label
    return BP_CATEGORY_ORDER.index(label), label


def triage_flags(
    *,
    days_without_data: float | None = None,
    latest_bp: tuple[float, float] | None = None,
    bp_mean_7d: tuple[float, float] | None = None,
    rhr: BaselineComparison | None = None,
    weight_change_kg_30d: float | None = None,
    weight_change_kg_7d: float | None = None,
    spo2_min_7d: float | None = None,
    tir: TimeInRanges | None = None,
    weight_kg: float | None = None,
) -> list[Flag]:
    """Flags for one patient, sorted by severity (high first) then code. None = no data."""
    flags: list[Flag] = []

    if _ok(days_without_data) and days_without_data >= MISSING_DAYS_LOW:
        sev = HIGH if days_without_data >= MISSING_DAYS_HIGH else LOW
        flags.append(Flag("missing_data", sev, "Missing data",
                          f"No data for {round(days_without_data, 1):g} days.", "missing_data"))

    latest_rank, latest_label = _bp_rank(latest_bp)
    mean_rank, mean_label = _bp_rank(bp_mean_7d)
    worst = max(latest_rank, mean_rank)
    medium_rank = BP_CATEGORY_ORDER.index(BP_MEDIUM_CATEGORY)
    if worst >= medium_rank:
        parts = []
        if latest_rank >= medium_rank:
            parts.append(f"Latest reading {latest_bp[0]:.0f}/{latest_bp[1]:.0f} mmHg is "
                         f"in the {latest_label} category.")
        if mean_rank >= medium_rank:
            parts.append(f"7-day mean {bp_mean_7d[0]:.0f}/{bp_mean_7d[1]:.0f} mmHg is "
                         f"in the {mean_label} category.")
        crisis = worst >= BP_CATEGORY_ORDER.index(BP_HIGH_CATEGORY)
        flags.append(Flag("bp_crisis" if crisis else "bp_stage_2", HIGH if crisis else MEDIUM,
                          "Blood pressure out of range", " ".join(parts), "out_of_range"))

    if (rhr is not None and rhr.recent_n >= RHR_MIN_RECENT_DAYS and _ok(rhr.deviation_sd)
            and rhr.deviation_sd >= RHR_DEVIATION_SD
            and rhr.recent_mean - rhr.base_mean >= RHR_MIN_RISE_BPM):
        flags.append(Flag(
            "rhr_rise", MEDIUM, "Resting heart rate rising",
            f"{rhr.recent_days}-day mean resting heart rate {rhr.recent_mean:.0f} bpm is "
            f"{rhr.recent_mean - rhr.base_mean:.0f} bpm ({rhr.deviation_sd:.1f} SD) above "
            f"the {rhr.window_days}-day baseline mean of {rhr.base_mean:.0f} bpm (SD "
            f"{rhr.base_sd:.1f} bpm).", "rapid_change"))

    if _ok(weight_change_kg_7d) and weight_change_kg_7d > WEIGHT_GAIN_7D_KG:
        flags.append(Flag(
            "weight_gain_7d", MEDIUM, "Rapid weight gain",
            f"Weight up {weight_change_kg_7d:.1f} kg in 7 days (more than "
            f"{WEIGHT_GAIN_7D_KG:.0f} kg; heart-failure guidance asks to act on this).",
            "rapid_change"))
    if _ok(weight_change_kg_30d) and _ok(weight_kg):
        start = weight_kg - weight_change_kg_30d
        pct = 100.0 * weight_change_kg_30d / start if start > 0 else float("nan")
        if _ok(pct) and abs(pct) > WEIGHT_CHANGE_30D_PCT:
            direction = "up" if pct > 0 else "down"
            flags.append(Flag(
                "weight_change_30d", MEDIUM, "Rapid weight change",
                f"Weight {direction} {abs(weight_change_kg_30d):.1f} kg ({abs(pct):.1f}%) in "
                f"30 days (more than {WEIGHT_CHANGE_30D_PCT:.0f}%).", "rapid_change"))

    if _ok(spo2_min_7d) and spo2_min_7d < SPO2_MEDIUM_BELOW:
        flags.append(Flag(
            "spo2_low", HIGH if spo2_min_7d < SPO2_HIGH_BELOW else MEDIUM, "Low SpO2",
            f"Lowest SpO2 in 7 days was {round(spo2_min_7d, 1):g}% (below "
            f"{SPO2_MEDIUM_BELOW:.0f}%); confirm with a fingertip oximeter.", "out_of_range"))

    if tir is not None and tir.n > 0:
        if tir.below_54 >= GLUCOSE_BELOW_54_PCT:
            flags.append(Flag(
                "glucose_very_low", HIGH, "Very low glucose",
                f"{tir.below_54:.1f}% of {tir.n} readings below 54 mg/dL (target under "
                f"{GLUCOSE_BELOW_54_PCT:.0f}%); {tir.below_70:.1f}% below 70 mg/dL.",
                "out_of_range"))
        elif tir.below_70 >= GLUCOSE_BELOW_70_PCT:
            flags.append(Flag(
                "glucose_low", MEDIUM, "Low glucose",
                f"{tir.below_70:.1f}% of {tir.n} readings below 70 mg/dL (target under "
                f"{GLUCOSE_BELOW_70_PCT:.0f}%).", "out_of_range"))
        if tir.in_range <= GLUCOSE_TIR_TARGET_PCT:
            flags.append(Flag(
                "glucose_tir", MEDIUM if tir.in_range < GLUCOSE_TIR_HIGH_RISK_PCT else LOW,
                "Time in range below target",
                f"{tir.in_range:.1f}% of {tir.n} readings in 70–180 mg/dL (target over "
                f"{GLUCOSE_TIR_TARGET_PCT:.0f}%); {tir.above_180:.1f}% above 180 and "
                f"{tir.above_250:.1f}% above 250 mg/dL.", "out_of_range"))

    return sorted(flags, key=lambda f: (-f.severity, f.code))


def severity_rank(flags: list[Flag]) -> int:
    """The highest severity among `flags`, 0 when there are none."""
    return max((f.severity for f in flags), default=0)
