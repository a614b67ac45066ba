"""Clinical statistics against values worked out by hand (in the comments beside them).

No expected value here comes from the code under test: percentiles are numpy's linear
method done on paper, shares are counts over n, dates come from the calendar module.
"""

import calendar
import math

import numpy as np
import pytest

from data.analyzers.clinical import (
    BaselineComparison,
    Flag,
    agp,
    baseline_band,
    bp_categories,
    bp_summary,
    glucose_cv,
    glucose_summary,
    gmi,
    nightly,
    personal_baseline,
    severity_rank,
    time_in_ranges,
    triage_flags,
    weekday_hour,
    weight_trend,
)
from data.catalog import bp_category
from data.reference_ranges import BP_CATEGORY_ORDER

D = 86_400
H = 3_600


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    """Wall-clock epoch seconds of a local date and time (the offset is already in it)."""
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


MON_4_MAR_2024 = at(2024, 3, 4)  # a Monday


# --- AGP ---------------------------------------------------------------------------------

def test_agp_percentiles_of_one_bin_by_hand():
    # Five days at 00:05 with 100..140: linear percentile at rank q/100 × (n − 1):
    # p5 → rank 0.2 → 100 + 0.2×10 = 102; p25 → 110; p50 → 120; p75 → 130; p95 → 138.
    t = np.array([d * D + 300 for d in range(5)] + [12 * H])
    v = np.array([100, 110, 120, 130, 140, 200])
    a = agp(t, v)
    assert a.minute[0] == 0 and a.minute[1] == 15 and a.minute[-1] == 1425
    assert len(a.minute) == 96
    assert (a.p5[0], a.p25[0], a.p50[0], a.p75[0], a.p95[0]) == pytest.approx(
        (102, 110, 120, 130, 138))
    # 12:00 is bin 48, one reading: every percentile is that reading.
    assert (a.p5[48], a.p50[48], a.p95[48]) == (200, 200, 200)
    assert np.isnan(a.p50[1]) and np.isnan(a.p95[47])
    assert a.days == 5


def test_agp_folds_by_local_time_of_day_and_bin_width():
    # 10:20 and 10:40 on two days: with 30-minute bins both sit in bin 20 (10:00) and 21.
    t = np.array([10 * H + 20 * 60, D + 10 * H + 40 * 60])
    a = agp(t, np.array([90, 150]), bin_minutes=30)
    assert len(a.minute) == 48
    assert a.p50[20] == 90 and a.p50[21] == 150
    with pytest.raises(ValueError):
        agp(t, np.array([90, 150]), bin_minutes=7)


def test_agp_wear_counts_expected_slots():
    # 0, 300, 600, 1500: expected (1500/300) + 1 = 6 slots, 4 present → 4/6.
    assert agp(np.array([0, 300, 600, 1500]), np.full(4, 100)).wear == pytest.approx(4 / 6)
    # A few seconds of jitter still fills every slot; a duplicate counts once.
    assert agp(np.array([0, 302, 598, 900]), np.full(4, 100)).wear == pytest.approx(1.0)
    assert agp(np.array([0, 0, 300]), np.full(3, 100)).wear == pytest.approx(1.0)


def test_agp_representative_needs_14_days_and_70_percent_wear():
    full = np.arange(14 * 288) * 300  # 14 days, every 5 minutes
    a = agp(full, np.full(full.size, 120.0))
    assert a.days == 14 and a.wear == pytest.approx(1.0)
    assert a.representative and a.message == ""

    thirteen = np.arange(13 * 288) * 300
    b = agp(thirteen, np.full(thirteen.size, 120.0))
    assert not b.representative and "13 days" in b.message

    half = np.arange(14 * 144) * 600  # every 10 minutes: half the expected readings
    c = agp(half, np.full(half.size, 120.0))
    assert c.days == 14 and c.wear == pytest.approx(0.5, abs=0.001)
    assert not c.representative and "50%" in c.message


def test_agp_empty():
    a = agp(np.array([]), np.array([]))
    assert a.days == 0 and a.wear == 0 and not a.representative
    assert np.all(np.isnan(a.p50)) and a.message


def test_agp_ignores_nan_readings():
    a = agp(np.array([0, 300]), np.array([100, np.nan]))
    assert a.p50[0] == 100 and a.n == 1


# --- Time in ranges ----------------------------------------------------------------------

def test_tir_boundaries():
    # very low: 50, 53.9 | low: 54, 69.9 | in: 70, 180 | high: 180.5, 250 | very high: 250.1, 300
    tir = time_in_ranges(np.array([50, 53.9, 54, 69.9, 70, 180, 180.5, 250, 250.1, 300]))
    assert tir.n == 10
    assert (tir.very_low, tir.low, tir.in_range, tir.high, tir.very_high) == pytest.approx(
        (20, 20, 20, 20, 20))
    assert tir.below_70 == pytest.approx(40) and tir.above_180 == pytest.approx(40)
    assert tir.below_54 == pytest.approx(20) and tir.above_250 == pytest.approx(20)


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(53.99, "very_low"), (54, "low"), (69.9, "low"), (70, "in_range"), (180, "in_range"),
     (180.5, "high"), (250, "high"), (250.1, "very_high")],
)
def test_tir_single_value_bucket(value, bucket):
    tir = time_in_ranges(np.array([value]))
    assert getattr(tir, bucket) == 100
    others = {"very_low", "low", "in_range", "high", "very_high"} - {bucket}
    assert all(getattr(tir, o) == 0 for o in others)


def test_tir_targets_met_and_strict_limits():
    # 72 in range, 3 low (60), 21 high (200), 4 very high (300): n = 100.
    v = np.array([100] * 72 + [60] * 3 + [200] * 21 + [300] * 4)
    tir = time_in_ranges(v)
    assert tir.met == {"in_range": True, "below_70": True, "below_54": True,
                       "above_180": False, "above_250": True}  # 25% is not "< 25%"
    assert not tir.all_met
    assert "Battelino" in tir.targets

    # Exactly 70% in range, exactly 4% below 70, exactly 1% below 54: none met.
    w = np.array([100] * 70 + [60] * 3 + [40] * 1 + [200] * 26)
    met = time_in_ranges(w).met
    assert not met["in_range"] and not met["below_70"] and not met["below_54"]

    ok = time_in_ranges(np.array([100] * 96 + [200] * 4))
    assert ok.all_met


def test_tir_empty_and_nan():
    tir = time_in_ranges(np.array([]))
    assert tir.n == 0 and math.isnan(tir.in_range) and math.isnan(tir.below_70)
    assert not any(tir.met.values()) and not tir.all_met
    assert time_in_ranges(np.array([np.nan, 100])).n == 1


# --- GMI, CV, summary --------------------------------------------------------------------

def test_gmi_by_hand():
    # 3.31 + 0.02392 × 154 = 3.31 + 3.68368 = 6.99368
    assert gmi(154) == pytest.approx(6.99368)
    assert round(gmi(154), 2) == 6.99
    assert gmi(100) == pytest.approx(5.702)


def test_cv_uses_sample_sd():
    # 100, 150, 200: mean 150, squared deviations 2500 + 0 + 2500; sample variance 5000/2
    # → SD 50 → CV 33.33%. (Population SD 40.82 would give 27.2%.)
    assert glucose_cv(np.array([100, 150, 200])) == pytest.approx(100 / 3)
    assert math.isnan(glucose_cv(np.array([120])))
    assert math.isnan(glucose_cv(np.array([])))


def test_glucose_summary_by_hand():
    s = glucose_summary(np.array([100, 150, 200, np.nan]))
    assert s.n == 3 and s.mean == 150 and s.sd == pytest.approx(50)
    assert s.cv == pytest.approx(33.3333, abs=1e-3) and s.cv_stable
    assert s.gmi == pytest.approx(6.898)  # 3.31 + 0.02392 × 150
    # 100, 200: SD √5000 = 70.71, CV 47.1% > 36%: not stable.
    u = glucose_summary(np.array([100, 200]))
    assert u.cv == pytest.approx(47.1405, abs=1e-3) and not u.cv_stable
    e = glucose_summary(np.array([]))
    assert e.n == 0 and math.isnan(e.mean) and math.isnan(e.gmi) and not e.cv_stable


# --- Baselines ---------------------------------------------------------------------------

def test_baseline_band_excludes_the_day_itself():
    days = np.arange(20) * D
    b = baseline_band(days, np.arange(20.0))
    assert np.all(np.isnan(b.median[:14]))
    # Day 14: prior values 0..13 (14 values). Median 6.5; q25 at rank 3.25 → 3.25; q75 9.75.
    # (Including day 14 itself would give a median of 7.)
    assert (b.median[14], b.q25[14], b.q75[14]) == pytest.approx((6.5, 3.25, 9.75))
    # Day 15: 0..14 → median 7, q25 at rank 3.5 → 3.5, q75 10.5.
    assert (b.median[15], b.q25[15], b.q75[15]) == pytest.approx((7, 3.5, 10.5))


def test_baseline_band_window_and_missing_values():
    days = np.arange(11) * D
    vals = np.arange(11.0)
    vals[8] = np.nan
    b = baseline_band(days, vals, window_days=5, min_days=3)
    # Day 10: window days 5..9 → 5, 6, 7, 9 (8 missing) → median 6.5.
    assert b.median[10] == pytest.approx(6.5)
    # Day 3: 0, 1, 2 → median 1; day 2: only two prior values → NaN.
    assert b.median[3] == pytest.approx(1) and np.isnan(b.median[2])
    with pytest.raises(ValueError):
        baseline_band(days[::-1], vals)


def test_personal_baseline_by_hand():
    days = np.array([-1, 0, 1, 2, 3, 4, 5]) * D
    vals = np.array([1000, 10, 20, 30, 40, 100, 110])
    c = personal_baseline(days, vals, as_of_day=5 * D, recent_days=2, window_days=4,
                          min_days=2)
    # Recent: days 4, 5 → 105. Baseline: days 0..3 → 10, 20, 30, 40 (day −1 outside).
    assert c.recent_mean == 105 and c.recent_n == 2 and c.base_n == 4
    assert (c.base_median, c.base_q25, c.base_q75) == pytest.approx((25, 17.5, 32.5))
    # Sample SD: √((225 + 25 + 25 + 225) / 3) = √166.67 = 12.9099; (105 − 25) / 12.9099.
    assert c.base_mean == 25 and c.base_sd == pytest.approx(12.90994, abs=1e-5)
    assert c.deviation_sd == pytest.approx(6.19677, abs=1e-4)


def test_personal_baseline_too_little_data():
    c = personal_baseline(np.array([0, D]), np.array([60, 70]), as_of_day=D, recent_days=1)
    assert c.recent_mean == 70 and c.base_n == 1
    assert math.isnan(c.base_median) and math.isnan(c.deviation_sd)
    e = personal_baseline(np.array([]), np.array([]), as_of_day=0)
    assert e.recent_n == 0 and math.isnan(e.recent_mean)


# --- Blood pressure ----------------------------------------------------------------------

def test_bp_summary_by_hand():
    m = MON_4_MAR_2024
    t = np.array([m + 7 * H, m + 8 * H, m + 13 * H, m + 20 * H, m + D + 21 * H,
                  m + 3 * H + 59 * 60])
    sys_ = np.array([150, 130, 118, 125, 185, 120])
    dia = np.array([95, 85, 76, 78, 100, 80])
    s = bp_summary(t, sys_, dia)
    assert s.n == 6
    assert s.mean_systolic == pytest.approx(138)        # 828 / 6
    assert s.mean_diastolic == pytest.approx(514 / 6)   # 85.67
    assert (s.morning_n, s.morning_systolic, s.morning_diastolic) == (2, 140, 90)
    assert (s.evening_n, s.evening_systolic, s.evening_diastolic) == (2, 155, 89)
    assert list(s.category_share) == [
        "Normal", "Elevated", "Stage 1 hypertension", "Stage 2 hypertension",
        "Hypertensive crisis"]
    # 118/76 normal; 125/78 elevated; 130/85 and 120/80 stage 1; 150/95 stage 2; 185/100 crisis
    assert list(s.category_share.values()) == pytest.approx([100 / 6, 100 / 6, 200 / 6,
                                                            100 / 6, 100 / 6])
    assert (s.latest_systolic, s.latest_diastolic) == (185, 100)
    assert s.latest_category == "Hypertensive crisis" and s.latest_t == m + D + 21 * H


def test_bp_window_edges():
    m = MON_4_MAR_2024
    t = np.array([m + 4 * H, m + 12 * H - 1, m + 12 * H, m + 18 * H, m + 24 * H - 1,
                  m + 4 * H - 1])
    s = bp_summary(t, np.full(6, 120.0), np.full(6, 70.0))
    assert s.morning_n == 2 and s.evening_n == 2


def test_bp_summary_empty_keeps_every_category():
    s = bp_summary(np.array([]), np.array([]), np.array([]))
    assert s.n == 0 and math.isnan(s.mean_systolic) and s.latest_category == ""
    assert list(s.category_share) == list(BP_CATEGORY_ORDER)
    assert all(math.isnan(x) for x in s.category_share.values())


def test_bp_categories_agree_with_catalog():
    sys_ = np.arange(100, 200, 0.5)
    for dia in (60, 79.9, 80, 89.9, 90, 120, 120.5):
        got = bp_categories(sys_, np.full(sys_.size, float(dia)))
        want = [BP_CATEGORY_ORDER.index(bp_category(x, dia).label) for x in sys_]
        assert got.tolist() == want
    assert bp_categories(np.array([np.nan]), np.array([80.0])).tolist() == [-1]


# --- Weight ------------------------------------------------------------------------------

def test_weight_trend_by_hand():
    days = np.array([0, 1, 3, 7, 8, 8]) * D + np.array([0, 0, 0, 0, 7 * H, 19 * H])
    kg = np.array([80, 81, 82, 84, 85, 87])
    w = weight_trend(days, kg)
    assert w.day.tolist() == [0, D, 3 * D, 7 * D, 8 * D]
    # [d−6, d]: day 7 → days 1..7: 81, 82, 84; day 8 → days 2..8: 82, 84, 85, 87.
    assert w.avg7 == pytest.approx([80, 80.5, 81, 247 / 3, 84.5])
    assert w.n7.tolist() == [1, 2, 3, 3, 4]
    assert w.change_kg == pytest.approx(4.5) and w.change_pct == pytest.approx(5.625)


def test_weight_trend_single_and_empty():
    one = weight_trend(np.array([0]), np.array([70.0]))
    assert one.avg7.tolist() == [70] and math.isnan(one.change_kg)
    assert math.isnan(one.change_pct)
    assert weight_trend(np.array([]), np.array([])).day.size == 0


# --- Nightly -----------------------------------------------------------------------------

def test_night_is_dated_by_the_day_it_ends():
    t = np.array([at(2024, 3, 3, 23), at(2024, 3, 4, 2), at(2024, 3, 4, 7, 59, 59),
                  at(2024, 3, 4, 8), at(2024, 3, 4, 21, 59), at(2024, 3, 4, 22)])
    v = np.array([95, 88, 93, 80, 70, 97])
    n = nightly(t, v)
    assert n.night.tolist() == [at(2024, 3, 4), at(2024, 3, 5)]
    assert n.min.tolist() == [88, 97] and n.mean.tolist() == [92, 97]
    assert n.n.tolist() == [3, 1]


def test_night_window_not_crossing_midnight():
    t = np.array([at(2024, 3, 4, 0, 30), at(2024, 3, 4, 5), at(2024, 3, 4, 6)])
    n = nightly(t, np.array([90, 94, 80]), start_hour=0, end_hour=6)
    assert n.night.tolist() == [at(2024, 3, 4)] and n.min.tolist() == [90]
    assert nightly(np.array([]), np.array([])).night.size == 0


# --- Weekday × hour ----------------------------------------------------------------------

def test_weekday_hour_known_dates():
    t = np.array([at(2024, 3, 4, 10, 30), at(2024, 3, 11, 10, 5), at(2024, 3, 10, 23),
                  at(1970, 1, 1)])
    v = np.array([10, 20, 5, 7])
    mean = weekday_hour(t, v)
    assert mean.shape == (7, 24)
    assert mean[0, 10] == 15   # Mondays 4 and 11 March 2024, 10:xx
    assert mean[6, 23] == 5    # Sunday 10 March 2024, 23:00
    assert mean[3, 0] == 7     # Thursday 1 January 1970
    assert np.isnan(mean[0, 11]) and np.count_nonzero(~np.isnan(mean)) == 3
    total = weekday_hour(t, v, how="sum")
    assert total[0, 10] == 30 and total[1, 0] == 0
    count = weekday_hour(t, v, how="count")
    assert count[0, 10] == 2 and count.sum() == 4
    with pytest.raises(ValueError):
        weekday_hour(t, v, how="median")


# --- Triage flags ------------------------------------------------------------------------

def codes(**kwargs) -> dict[str, int]:
    return {f.code: f.severity for f in triage_flags(**kwargs)}


def rhr(recent: float, base_mean: float, base_sd: float, recent_n: int = 7):
    return BaselineComparison(
        recent_mean=recent, recent_n=recent_n, base_median=base_mean, base_q25=base_mean - 1,
        base_q75=base_mean + 1, base_mean=base_mean, base_sd=base_sd, base_n=80,
        deviation_sd=(recent - base_mean) / base_sd)


def test_no_data_no_flags():
    assert triage_flags() == []
    nan = float("nan")
    assert triage_flags(days_without_data=nan, latest_bp=(nan, 90), spo2_min_7d=nan,
                        weight_change_kg_7d=nan) == []
    assert severity_rank([]) == 0


@pytest.mark.parametrize(("days", "want"), [(2.9, {}), (3, {"missing_data": 1}),
                                            (6.9, {"missing_data": 1}),
                                            (7, {"missing_data": 3})])
def test_missing_data(days, want):
    assert codes(days_without_data=days) == want


@pytest.mark.parametrize(
    ("latest", "mean7", "want"),
    [((139, 89), None, {}),                      # stage 1
     ((140, 70), None, {"bp_stage_2": 2}),       # systolic 140: stage 2
     ((120, 90), None, {"bp_stage_2": 2}),       # diastolic 90: stage 2
     ((180, 120), None, {"bp_stage_2": 2}),      # 180/120 is still stage 2
     ((181, 80), None, {"bp_crisis": 3}),
     ((120, 121), None, {"bp_crisis": 3}),
     (None, (142, 85), {"bp_stage_2": 2}),
     ((130, 80), (138, 88), {}),
     ((185, 100), (150, 95), {"bp_crisis": 3})],  # one flag, the worse category
)
def test_bp_flags(latest, mean7, want):
    assert codes(latest_bp=latest, bp_mean_7d=mean7) == want


def test_bp_flag_detail_has_numbers_and_units():
    (flag,) = triage_flags(latest_bp=(185, 100), bp_mean_7d=(150, 95))
    assert "185/100 mmHg" in flag.detail and "150/95 mmHg" in flag.detail
    assert "Hypertensive crisis" in flag.detail and flag.kind == "out_of_range"


def test_resting_heart_rate_rise():
    # Baseline 60 ± 3 bpm: 66 is exactly 2 SD (and 6 bpm) → flag; 65.9 is below 2 SD.
    assert codes(rhr=rhr(66, 60, 3)) == {"rhr_rise": 2}
    assert codes(rhr=rhr(65.9, 60, 3)) == {}
    # A fall is not flagged; 2 SD of a very steady baseline (SD 1) but only 4 bpm → no flag.
    assert codes(rhr=rhr(50, 60, 3)) == {}
    assert codes(rhr=rhr(64, 60, 1)) == {}
    # Only 2 recent days: too thin a week.
    assert codes(rhr=rhr(70, 60, 3, recent_n=2)) == {}
    nan = float("nan")
    empty = BaselineComparison(70, 7, nan, nan, nan, nan, nan, 3, nan)
    assert codes(rhr=empty) == {}
    (flag,) = triage_flags(rhr=rhr(66, 60, 3))
    assert "7-day mean resting heart rate 66 bpm is 6 bpm (2.0 SD)" in flag.detail
    assert "90-day baseline mean of 60 bpm (SD 3.0 bpm)" in flag.detail


def test_weight_flags():
    assert codes(weight_change_kg_7d=2.0) == {}
    assert codes(weight_change_kg_7d=2.1) == {"weight_gain_7d": 2}
    assert codes(weight_change_kg_7d=-3.0) == {}
    # 30 days, current weight 84 after +4 kg: 4 / 80 = 5.0% → not more than 5%.
    assert codes(weight_change_kg_30d=4.0, weight_kg=84.0) == {}
    # +4.1 kg to 84.1: 4.1 / 80 = 5.125% → flag.
    assert codes(weight_change_kg_30d=4.1, weight_kg=84.1) == {"weight_change_30d": 2}
    # −4.1 kg to 75.9: 4.1 / 80 = 5.125% loss → flag.
    (flag,) = triage_flags(weight_change_kg_30d=-4.1, weight_kg=75.9)
    assert flag.code == "weight_change_30d" and "down 4.1 kg (5.1%)" in flag.detail
    # Without the weight, kg cannot become percent: no flag rather than a guess.
    assert codes(weight_change_kg_30d=10.0) == {}


@pytest.mark.parametrize(("spo2", "want"), [(90, {}), (89.9, {"spo2_low": 2}),
                                            (88, {"spo2_low": 2}),
                                            (87.9, {"spo2_low": 3})])
def test_spo2_flags(spo2, want):
    assert codes(spo2_min_7d=spo2) == want


def test_spo2_detail_keeps_the_decimal():
    (flag,) = triage_flags(spo2_min_7d=87.6)
    assert "was 87.6% (below 90%)" in flag.detail


def test_glucose_flags():
    def tir(*groups):  # (value, count) pairs, 100 readings in all
        return time_in_ranges(np.concatenate([np.full(n, v, dtype=float) for v, n in groups]))

    # 1% below 54 → high; the below-70 rule is then folded into its detail.
    assert codes(tir=tir((40, 1), (100, 99))) == {"glucose_very_low": 3}
    assert codes(tir=tir((60, 1), (100, 99))) == {}
    # 4% below 70 (none below 54) → medium; 3% → nothing.
    assert codes(tir=tir((60, 4), (100, 96))) == {"glucose_low": 2}
    assert codes(tir=tir((60, 3), (100, 97))) == {}
    # In range: 71% → fine; 70% → low; 50% → low; 49% → medium.
    assert codes(tir=tir((100, 71), (200, 29))) == {}
    assert codes(tir=tir((100, 70), (200, 30))) == {"glucose_tir": 1}
    assert codes(tir=tir((100, 50), (200, 50))) == {"glucose_tir": 1}
    assert codes(tir=tir((100, 49), (300, 51))) == {"glucose_tir": 2}
    assert codes(tir=time_in_ranges(np.array([]))) == {}
    (flag,) = triage_flags(tir=tir((100, 49), (300, 51)))
    assert "49.0% of 100 readings in 70–180 mg/dL" in flag.detail
    assert "51.0% above 250 mg/dL" in flag.detail


def test_flags_sorted_by_severity_then_code():
    flags = triage_flags(days_without_data=4, latest_bp=(150, 95), spo2_min_7d=85,
                         weight_change_kg_7d=2.5)
    assert [(f.severity, f.code) for f in flags] == [
        (3, "spo2_low"), (2, "bp_stage_2"), (2, "weight_gain_7d"), (1, "missing_data")]
    assert severity_rank(flags) == 3
    assert severity_rank([Flag("x", 1, "X", "")]) == 1
