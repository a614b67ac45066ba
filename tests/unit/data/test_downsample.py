"""MinMaxLTTB keeps charts honest: bounded size, extremes kept."""

import numpy as np
import pytest

from data.downsample import select_indices


@pytest.mark.parametrize("n, max_points", [(10, 2000), (2000, 2000), (2001, 2000),
                                           (400_000, 2000), (50_000, 7)])
def test_never_more_points_than_asked(n, max_points):
    x = np.arange(n, dtype=np.int64) * 60
    y = np.random.default_rng(1).normal(70, 10, n)
    idx = select_indices(x, y, max_points)
    assert len(idx) == min(n, max_points)
    assert (np.diff(idx) > 0).all(), "indices come out in time order, without repeats"


def test_spikes_survive_downsampling():
    rng = np.random.default_rng(2)
    y = rng.normal(60, 2, 100_000)
    y[12_345], y[67_890] = 190.0, 31.0
    idx = select_indices(np.arange(100_000, dtype=np.int64), y, 500)
    assert 12_345 in idx and 67_890 in idx
