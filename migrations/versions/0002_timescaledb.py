"""TimescaleDB: hypertable and compression for observations, where the extension exists.

Plain PostgreSQL and SQLite skip this migration's work; `healthdash run` logs which
capabilities were found.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Chunks of 30 days of integer (epoch-second) time; compress chunks older than 30 days.
CHUNK_S = 30 * 86400


def _timescaledb_available(bind) -> bool:
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.execute(text(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )).scalar())


def upgrade() -> None:
    bind = op.get_bind()
    if not _timescaledb_available(bind):
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    op.execute(
        "CREATE OR REPLACE FUNCTION healthdash_now_s() RETURNS BIGINT "
        "LANGUAGE SQL STABLE AS $$ SELECT extract(epoch FROM now())::BIGINT $$"
    )
    op.execute(
        f"SELECT create_hypertable('observations', 'start_ts', chunk_time_interval => {CHUNK_S},"
        " migrate_data => true, if_not_exists => true)"
    )
    op.execute(
        "SELECT set_integer_now_func('observations', 'healthdash_now_s', "
        "replace_if_exists => true)"
    )
    op.execute(
        "ALTER TABLE observations SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'patient_id, metric', "
        "timescaledb.compress_orderby = 'start_ts')"
    )
    op.execute(
        f"SELECT add_compression_policy('observations', compress_after => {CHUNK_S}, "
        "if_not_exists => true)"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if not _timescaledb_available(bind):
        return
    op.execute("SELECT remove_compression_policy('observations', if_exists => true)")
