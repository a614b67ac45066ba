"""Shared state of the repository mixins."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import Connection, Engine

from data.cache import QueryCache
from data.db import is_sqlite


class RepositoryBase:
    """Holds the engine and the optional query cache."""

    def __init__(self, engine: Engine, cache: QueryCache | None = None):
        self.engine = engine
        self.cache = cache
        self.sqlite = is_sqlite(engine)


def now_ts() -> int:
    """Current UTC epoch seconds."""
    return int(time.time())


def columns(rows: Sequence[Sequence], count: int, dtype=np.float64) -> list[np.ndarray]:
    """Transpose fetched rows into `count` numpy columns (fast: no per-row numpy work)."""
    if not rows:
        return [np.array([], dtype=dtype) for _ in range(count)]
    return [np.array(col, dtype=dtype) for col in list(zip(*rows, strict=True))[:count]]


def fetch_driver_rows(conn: Connection, sql: str, params: tuple) -> list[tuple]:
    """Run SQL written with %s placeholders straight on the DBAPI cursor.

    For bulk reads: it skips SQLAlchemy's per-row objects, which cost more than the query.
    """
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return raw.execute(sql.replace("%s", "?"), params).fetchall()
    with raw.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def insert_rows(conn: Connection, table: str, names: tuple[str, ...],
                rows: Iterable[tuple]) -> None:
    """Bulk INSERT of rows that cannot conflict: executemany on SQLite, COPY on PostgreSQL."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        raw.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
        return
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
