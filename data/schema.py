"""Tables. Times are UTC epoch seconds (BIGINT) on every dialect.

Integer seconds keep one schema for SQLite and PostgreSQL, make bulk loads cheap and let
local-time bucketing be plain integer arithmetic (`start_ts + utc_offset_min * 60`).
See docs/decisions.md.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200)),
    Column("role", String(20), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_ts", BigInteger, nullable=False),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), unique=True),
    Column("name", String(200), nullable=False),
    Column("birth_date", Date),
    Column("sex", String(10)),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("created_ts", BigInteger, nullable=False),
)

care_team = Table(
    "care_team",
    metadata,
    Column("clinician_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
    Column("added_ts", BigInteger, nullable=False),
    Index("ix_care_team_patient", "patient_id"),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False, default="other"),
    # Lower wins when two sources cover the same minute of a cumulative metric.
    Column("priority", SmallInteger, nullable=False, default=50),
    UniqueConstraint("patient_id", "name", name="uq_sources_patient_name"),
)

# No foreign keys on the hot tables: TimescaleDB hypertables and bulk loads are faster
# without them, and the repository only writes rows for patients and sources it created.
observations = Table(
    "observations",
    metadata,
    Column("patient_id", Integer, primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("start_ts", BigInteger, primary_key=True),
    Column("source_id", Integer, primary_key=True),
    Column("end_ts", BigInteger, primary_key=True),
    Column("utc_offset_min", SmallInteger, nullable=False),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)


def _rollup_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("patient_id", Integer, primary_key=True),
        Column("metric", String(32), primary_key=True),
        # -1 for numeric metrics; the stage code for sleep_stage.
        Column("category", SmallInteger, primary_key=True),
        # Wall-clock start of the bucket in the person's local time, as epoch seconds.
        Column("bucket", BigInteger, primary_key=True),
        Column("utc_start", BigInteger, nullable=False),
        Column("utc_offset_min", SmallInteger, nullable=False),
        Column("n", Integer, nullable=False),
        Column("sum", Float, nullable=False),
        Column("min", Float, nullable=False),
        Column("max", Float, nullable=False),
        Column("mean", Float, nullable=False),
        Column("source_id", Integer),
        sqlite_with_rowid=False,
    )


rollup_hourly = _rollup_table("rollup_hourly")
rollup_daily = _rollup_table("rollup_daily")

data_versions = Table(
    "data_versions",
    metadata,
    Column("patient_id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("updated_ts", BigInteger, nullable=False),
)
