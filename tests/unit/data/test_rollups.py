"""Rollup arithmetic on hand-made samples."""

import numpy as np
import pytest

from data.rollups import DAY, HOUR, RawRows, compute, spread_over_minutes

WATCH, PHONE = 1, 2
PRIORITY = {WATCH: 10, PHONE: 20}


def rows(*samples):
    """(start, end, offset_min, value, source) tuples as columns."""
    start, end, off, value, src = (np.array(c) for c in zip(*samples, strict=True))
    return RawRows(start.astype(np.int64), end.astype(np.int64), off.astype(np.int64),
                   value.astype(float), src.astype(np.int64))


def test_an_interval_is_spread_over_the_minutes_it_covers():
    _row, minute, seconds, share = spread_over_minutes(np.array([90]), np.array([210]))
    assert minute.tolist() == [1, 2, 3]
    assert seconds.tolist() == [30, 60, 30]
    assert share.tolist() == pytest.approx([0.25, 0.5, 0.25])


def test_cumulative_totals_take_the_best_source_minute_by_minute():
    samples = rows(
        (0, 600, 0, 100, WATCH),     # 10/min for minutes 0-9
        (300, 900, 0, 300, PHONE),   # 30/min for minutes 5-14: only 10-14 count
        (HOUR, HOUR + 60, 0, 7, PHONE),
    )
    hourly = compute(samples, "cumulative", PRIORITY, "hour")
    assert hourly.sum.tolist() == pytest.approx([100 + 5 * 30, 7])
    assert hourly.source_id.tolist() == [PHONE, PHONE]  # 150 from the phone beats 100
    daily = compute(samples, "cumulative", PRIORITY, "day")
    assert daily.sum.tolist() == pytest.approx([257])


def test_instant_buckets_follow_each_samples_own_offset():
    samples = rows((DAY - 1800, DAY - 1800, 60, 5.0, WATCH),   # 00:30 next day at UTC+1
                   (DAY - 1800, DAY - 1800, -60, 7.0, WATCH))  # 22:30 same day at UTC-1
    daily = compute(samples, "instant", PRIORITY, "day")
    assert daily.bucket.tolist() == [0, DAY]
    assert daily.mean.tolist() == [7.0, 5.0]
    assert daily.utc_start.tolist() == [3600, DAY - 3600]


def test_instant_rollups_keep_count_min_max_mean():
    samples = rows(*[(i * 60, i * 60, 0, v, WATCH) for i, v in enumerate([60, 90, 75])])
    (n, lo, hi, mean) = (compute(samples, "instant", PRIORITY, "hour").__getattribute__(f)[0]
                         for f in ("n", "min", "max", "mean"))
    assert (n, lo, hi, mean) == (3, 60, 90, 75)


def test_sleep_in_bed_is_counted_apart_and_nights_end_in_the_morning():
    samples = rows(
        (20 * HOUR, 20 * HOUR + 600 * 60, 0, 0, PHONE),          # in bed 20:00-06:00
        (21 * HOUR, 25 * HOUR, 0, 3, WATCH),                     # core 21:00-01:00
        (25 * HOUR, 26 * HOUR, 0, 4, WATCH),                     # deep
        (22 * HOUR, 23 * HOUR, 0, 1, PHONE),                     # phone's guess, overlapped
    )
    nights = compute(samples, "category", PRIORITY, "day")
    assert set(nights.bucket.tolist()) == {DAY}
    minutes = dict(zip(nights.category.tolist(), nights.sum.tolist(), strict=True))
    assert minutes == {0: 600.0, 3: 240.0, 4: 60.0}
