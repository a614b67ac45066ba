"""Query specs: validation and cache keys."""

import pytest

from data.queries import SeriesQuery


def test_cache_key_changes_with_every_field_and_the_data_version():
    base = SeriesQuery(1, "heart_rate", 0, 100, 2000, "auto")
    variants = [SeriesQuery(2, "heart_rate", 0, 100), SeriesQuery(1, "steps", 0, 100),
                SeriesQuery(1, "heart_rate", 1, 100), SeriesQuery(1, "heart_rate", 0, 101),
                SeriesQuery(1, "heart_rate", 0, 100, 500), SeriesQuery(1, "heart_rate", 0, 100,
                                                                       2000, "raw")]
    keys = {q.cache_key(1) for q in variants} | {base.cache_key(1), base.cache_key(2)}
    assert len(keys) == len(variants) + 2


@pytest.mark.parametrize("kwargs, message", [
    ({"max_points": 2}, "max_points"),
    ({"resolution": "minute"}, "resolution"),
    ({"start_ts": 10, "end_ts": 10}, "end must be after start"),
])
def test_nonsense_queries_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SeriesQuery(1, "heart_rate", **kwargs)
