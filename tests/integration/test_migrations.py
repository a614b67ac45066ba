"""The Alembic migrations build exactly the schema the code declares, on both dialects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data.schema import metadata


def test_migrations_match_the_declared_schema(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
