"""The sleep model of the demo data generator (`data.demo`): bedtimes and nightly hypnograms.

Kept apart so the sleep model (schedule, cycles, stage mix, in-bed margins) can be read and
tuned on its own. Vectorised over nights: a year of nights is a handful of numpy calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# HKCategoryValueSleepAnalysis codes, as stored by the catalog's sleep_stage metric.
IN_BED, AWAKE, CORE, DEEP, REM = 0, 2, 3, 4, 5

_CYCLES = 6
# Per ~90-minute cycle: deep sleep dominates early cycles and REM the late ones, which is
# what a real hypnogram looks like (about 18 % deep, 23 % REM over the night).
_DEEP_SHARE = np.array([0.40, 0.28, 0.15, 0.06, 0.0, 0.0])
_REM_SHARE = np.array([0.10, 0.17, 0.24, 0.30, 0.34, 0.36])
# Brief awakenings become likelier towards morning.
_WAKE_CHANCE = np.array([0.10, 0.20, 0.30, 0.40, 0.50, 0.55])
# Stage order inside each cycle: light, deep, light, REM, then an optional awakening.
_CYCLE_ORDER = np.tile(np.array([CORE, DEEP, CORE, REM, AWAKE]), _CYCLES)
_HOUR, _MINUTE = 3600, 60
# Consecutive in-bed intervals stay at least this far apart, even across time-zone jumps.
_MIN_DAY_S = 4 * _HOUR


@dataclass(frozen=True)
class Nights:
    """Per night: in-bed interval, sleep onset and final wake (UTC seconds, int64); plus
    every stage segment of every night, flattened, ordered and tagged with its night."""

    bed_start: np.ndarray
    bed_end: np.ndarray
    onset: np.ndarray
    wake: np.ndarray
    stage_start: np.ndarray
    stage_end: np.ndarray
    stage: np.ndarray
    stage_night: np.ndarray


def plan_nights(
    rng: np.random.Generator, weekday: np.ndarray, to_utc: Callable[[np.ndarray], np.ndarray]
) -> Nights:
    """One night per evening, given each evening's `weekday` (Monday 0) and `to_utc`, which
    maps wall-clock seconds after that evening's midnight (may pass 24 h) to UTC seconds.

    Sleep onset drifts around 23:00, 45 min later on Friday and Saturday nights. An alarm
    fixes weekday wake-ups near 06:50, so late nights are short ones; weekends sleep in.
    """
    n = len(weekday)
    late = np.isin(weekday, (4, 5))
    onset = 23 * _HOUR + rng.normal(0, 25 * _MINUTE, n) + 45 * _MINUTE * late
    onset = np.clip(onset, 21.75 * _HOUR, 25.5 * _HOUR)
    alarm = np.where(late, 31.75, 30.83) * _HOUR
    alarm += rng.normal(0, 1, n) * np.where(late, 40, 20) * _MINUTE
    asleep = np.clip(alarm - onset - 5 * _MINUTE, 6 * _HOUR, 8.5 * _HOUR)
    return _hypnograms(rng, to_utc(onset), asleep)


def _hypnograms(rng: np.random.Generator, onset: np.ndarray, asleep_s: np.ndarray) -> Nights:
    """Hypnograms for nights that should start at `onset` with `asleep_s` seconds of sleep.

    Cycle lengths, stage shares and awakenings are drawn per night; a night that would
    start before the previous one ended plus `_MIN_DAY_S` is pushed later as a whole.
    """
    n = len(onset)
    cycles = np.clip(np.rint(asleep_s / 5400), 4, _CYCLES).astype(np.int64)[:, None]
    used = np.arange(_CYCLES) < cycles
    weight = rng.uniform(0.85, 1.15, (n, _CYCLES)) * used
    length = asleep_s[:, None] * weight / weight.sum(axis=1, keepdims=True)
    deep = _DEEP_SHARE * rng.uniform(0.7, 1.3, (n, _CYCLES))
    rem = _REM_SHARE * rng.uniform(0.7, 1.3, (n, _CYCLES))
    light = 1.0 - deep - rem
    early_light = light * rng.uniform(0.4, 0.7, (n, _CYCLES))
    # No awakening after the last cycle: that one is the morning wake itself.
    awake = rng.uniform(60, 480, (n, _CYCLES)) * (rng.random((n, _CYCLES)) < _WAKE_CHANCE)
    awake *= np.arange(_CYCLES) < cycles - 1
    shares = np.stack([early_light, deep, light - early_light, rem], axis=2) * length[..., None]
    parts = np.floor(np.concatenate([shares, awake[..., None]], axis=2).reshape(n, -1))
    parts = np.where(parts < 60, 0, parts).astype(np.int64)

    rel_end = np.cumsum(parts, axis=1)
    span = rel_end[:, -1]
    onset = onset.astype(np.int64)
    bed_start = onset - np.rint(rng.uniform(600, 1800, n)).astype(np.int64)
    bed_end = onset + span + np.rint(rng.uniform(120, 1200, n)).astype(np.int64)
    # s'[i] = max(s[i], s'[i-1] + len[i-1] + gap), solved in closed form with a running max.
    before = np.concatenate(([0], np.cumsum(bed_end - bed_start + _MIN_DAY_S)[:-1]))
    shift = before + np.maximum.accumulate(bed_start - before) - bed_start
    onset, bed_start, bed_end = onset + shift, bed_start + shift, bed_end + shift

    night, col = np.nonzero(parts)
    start = onset[night] + rel_end[night, col] - parts[night, col]
    end = onset[night] + rel_end[night, col]
    stage = _CYCLE_ORDER[col]
    # Merge neighbours with the same stage (e.g. light sleep spanning a cycle boundary).
    first = np.ones(len(stage), dtype=bool)
    first[1:] = (stage[1:] != stage[:-1]) | (night[1:] != night[:-1])
    head = np.flatnonzero(first)
    tail = np.append(head[1:] - 1, len(stage) - 1)
    return Nights(
        bed_start=bed_start, bed_end=bed_end, onset=onset, wake=onset + span,
        stage_start=start[head], stage_end=end[tail], stage=stage[head],
        stage_night=night[head],
    )
