"""Alembic environment: the URL comes from the caller (CLI) or from Settings."""

from __future__ import annotations

from alembic import context

from data.db import make_engine
from data.schema import metadata
from settings import get_settings

config = context.config


def run_migrations() -> None:
    """Run online migrations against the configured database."""
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
