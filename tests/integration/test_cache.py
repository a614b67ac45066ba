"""Query cache in the real Redis: hits, invalidation by data version, and Redis outages."""

from __future__ import annotations

import logging

import redis
from flask_caching.backends import RedisCache

from data.access import Principal
from data.cache import QueryCache
from data.queries import SeriesQuery
from data.repository import ObservationBatch, Repository

SYSTEM = Principal.system()
KINDS = {"Scale": "scale"}
DAY = 86400
T0 = 1_740_787_200


class CountingBackend:
    """Wraps a backend to count what reaches it."""

    def __init__(self, inner):
        self.inner, self.gets, self.hits = inner, 0, 0

    def get(self, key):
        self.gets += 1
        value = self.inner.get(key)
        self.hits += value is not None
        return value

    def set(self, key, value, timeout=None):
        return self.inner.set(key, value, timeout=timeout)


def weights(patient: int, values: list[float]) -> ObservationBatch:
    return ObservationBatch(patient, [("body_mass", T0 + i * DAY, T0 + i * DAY, 0, v, "Scale")
                                      for i, v in enumerate(values)], KINDS)


def test_cached_reads_come_from_redis_and_a_write_invalidates_only_that_patient(
        engine, redis_client):
    backend = CountingBackend(RedisCache(host=redis_client, key_prefix="t:"))
    repo = Repository(engine, QueryCache(backend))
    a, b = repo.create_patient("A", "UTC"), repo.create_patient("B", "UTC")
    repo.upsert_observations(weights(a, [70.0, 71.0]))
    repo.upsert_observations(weights(b, [80.0]))
    qa, qb = SeriesQuery(a, "body_mass"), SeriesQuery(b, "body_mass")
    assert repo.series(SYSTEM, qa).value.tolist() == [70.0, 71.0]
    repo.series(SYSTEM, qb)
    assert repo.series(SYSTEM, qa).value.tolist() == [70.0, 71.0]
    assert backend.hits == 1
    assert len(redis_client.keys("t:series:*")) == 2

    repo.upsert_observations(weights(a, [70.0, 71.0, 72.0]))  # one new day for A
    assert repo.series(SYSTEM, qa).value.tolist() == [70.0, 71.0, 72.0], "no stale read"
    hits = backend.hits
    repo.series(SYSTEM, qb)
    assert backend.hits == hits + 1, "B's cache survives A's import"
    # a second process (another repository on the same database) sees the same version
    other = Repository(engine, QueryCache(RedisCache(host=redis_client, key_prefix="t:")))
    assert other.series(SYSTEM, qa).value.tolist() == [70.0, 71.0, 72.0]


def test_a_stopped_redis_degrades_to_uncached_reads_with_a_warning(engine, caplog):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    cache = QueryCache(RedisCache(host=dead, key_prefix="t:"), retry_after_s=60)
    repo = Repository(engine, cache)
    a = repo.create_patient("A", "UTC")
    repo.upsert_observations(weights(a, [70.0]))
    with caplog.at_level(logging.WARNING, logger="data.cache"):
        assert repo.series(SYSTEM, SeriesQuery(a, "body_mass")).value.tolist() == [70.0]
        assert repo.series(SYSTEM, SeriesQuery(a, "body_mass")).value.tolist() == [70.0]
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1, "one warning, then the dead cache is not retried per request"
    assert not cache.available
