"""Shared fixtures: real PostgreSQL and Redis, SQLite files, repositories on each dialect.

Under CI=true a missing service or browser fails the run instead of skipping tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis
from sqlalchemy import Engine

from data.db import make_engine
from data.migrate import upgrade
from data.repository import Repository

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(what: str) -> None:
    """Skip locally, fail in CI: a gap in CI must be visible."""
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI requires it")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test process, dropped afterwards."""
    name = f"hd_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        unavailable("PostgreSQL")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_engine(pg_database: str) -> Iterator[Engine]:
    """A migrated engine on the session's PostgreSQL database."""
    engine = make_engine(pg_database)
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    from data.schema import metadata

    # TRUNCATE, not DELETE: the audit log refuses row deletes (append-only trigger)
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty, migrated database on each dialect the product supports."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    yield engine
    _truncate(engine)


@pytest.fixture
def repo(engine: Engine) -> Repository:
    """A repository without cache on each dialect."""
    return Repository(engine)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """The real Redis server, test database flushed before and after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        unavailable("Redis")
    client.flushdb()
    yield client
    client.flushdb()
