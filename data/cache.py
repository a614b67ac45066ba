"""Query-result cache that can fail without failing a request.

Keys carry the patient's data version (see `SeriesQuery.cache_key`), so a write anywhere
invalidates that patient in every process without deleting anything. When the backend
errors (Redis stopped), reads go uncached, a warning is logged, and the cache is not
tried again for `retry_after_s`, so each request does not wait on a dead server.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Backend(Protocol):
    """The part of a flask-caching backend we use."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


class QueryCache:
    """A guarded wrapper around a flask-caching backend."""

    def __init__(self, backend: Backend, ttl_s: int = 3600, retry_after_s: float = 30.0):
        self._backend = backend
        self._ttl_s = ttl_s
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """False while the backend is considered down."""
        return time.monotonic() >= self._down_until

    def get(self, key: str) -> Any | None:
        """The cached value, or None on a miss or when the backend is unreachable."""
        if not self.available:
            return None
        try:
            return self._backend.get(key)
        except Exception as exc:
            self._trip(exc)
            return None

    def set(self, key: str, value: Any) -> None:
        """Store a value; failures are logged and otherwise ignored."""
        if not self.available:
            return
        try:
            self._backend.set(key, value, timeout=self._ttl_s)
        except Exception as exc:
            self._trip(exc)

    def _trip(self, exc: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self._retry_after_s
        log.warning(
            "cache unavailable (%s: %s); serving uncached for %.0f s",
            type(exc).__name__, exc, self._retry_after_s,
        )


def cache_config(redis_url: str | None, cache_dir: str, ttl_s: int) -> dict[str, Any]:
    """flask-caching configuration: Redis when configured, a filesystem cache otherwise."""
    if redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "healthdash:",
            "CACHE_DEFAULT_TIMEOUT": ttl_s,
            # Short timeouts: a stopped Redis must not hold a request for seconds.
            "CACHE_OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        }
    return {
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": cache_dir,
        "CACHE_DEFAULT_TIMEOUT": ttl_s,
        "CACHE_THRESHOLD": 5000,
    }
