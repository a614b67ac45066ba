"""Engine creation and what the connected database can do.

Dialect differences live here so that `data/repository.py` holds one set of queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capabilities:
    """What the connected database offers; reported at start-up."""

    dialect: str
    timescaledb: bool
    version: str

    def describe(self) -> str:
        """One log line naming the backend and its optional features."""
        extras = "TimescaleDB hypertables + compression" if self.timescaledb else "no TimescaleDB"
        return f"database: {self.dialect} {self.version} ({extras})"


def make_engine(url: str) -> Engine:
    """An engine tuned for the dialect: WAL and relaxed fsync on SQLite, pooled on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per checkout (a third of a cached chart read);
    # recycling connections older than 30 min avoids most stale ones, and SQLAlchemy
    # invalidates the pool when a connection does turn out to be dead.
    return create_engine(url, pool_recycle=1800, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded default."""
    return engine.dialect.name == "sqlite"


def detect_capabilities(engine: Engine) -> Capabilities:
    """Probe the server: dialect, version, and whether TimescaleDB is installed in this database."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            version = conn.execute(text("select sqlite_version()")).scalar_one()
            return Capabilities("sqlite", False, version)
        version = conn.execute(text("show server_version")).scalar_one()
        available = conn.execute(
            text("select count(*) from pg_available_extensions where name = 'timescaledb'")
        ).scalar_one()
        installed = conn.execute(
            text("select count(*) from pg_extension where extname = 'timescaledb'")
        ).scalar_one()
    if available and not installed:
        log.info("TimescaleDB is available but not installed in this database")
    return Capabilities("postgresql", bool(installed), version)
