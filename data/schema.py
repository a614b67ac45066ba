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
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
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
    # sign-in hardening: consecutive failures and a temporary lock
    Column("failed_logins", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", BigInteger),
    # single sign-on: the OpenID Connect issuer and subject this account is bound to
    Column("oidc_issuer", String(300)),
    Column("oidc_subject", String(255)),
    UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),
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
    # who put the clinician on the team: the patient, an admin (None: seeding, CLI)
    Column("added_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
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

# Per-metric override of a source's de-duplication priority (lower wins).
source_priorities = Table(
    "source_priorities",
    metadata,
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"),
           primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("priority", SmallInteger, nullable=False),
)

workouts = Table(
    "workouts",
    metadata,
    Column("patient_id", Integer, primary_key=True),
    Column("start_ts", BigInteger, primary_key=True),
    Column("source_id", Integer, primary_key=True),
    Column("activity", String(80), primary_key=True),
    Column("end_ts", BigInteger, nullable=False),
    Column("utc_offset_min", SmallInteger, nullable=False),
    Column("duration_s", Float),
    Column("distance_km", Float),
    Column("energy_kcal", Float),
    # statistics, events and the GPS route as JSON: read whole, never queried inside
    Column("details", Text, nullable=False),
)

activity_summaries = Table(
    "activity_summaries",
    metadata,
    Column("patient_id", Integer, primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("values", Text, nullable=False),
)

# An import survives the browser tab that started it: its state lives here, the page polls.
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("state", String(16), nullable=False),
    Column("bytes_total", BigInteger, nullable=False, default=0),
    Column("bytes_done", BigInteger, nullable=False, default=0),
    Column("records_done", BigInteger, nullable=False, default=0),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    Column("rows_duplicate", BigInteger, nullable=False, default=0),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("started_ts", BigInteger),
    Column("updated_ts", BigInteger),
    Column("finished_ts", BigInteger),
    Column("message", Text),
    Column("report", Text),
    Index("ix_import_jobs_patient", "patient_id", "created_ts"),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False, default=0),
    Column("path", String(1024), nullable=False),
    Column("created_ts", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("last_used_ts", BigInteger),
    Column("revoked_ts", BigInteger),
)

# --- Clinical review ------------------------------------------------------------------------

# A note at a moment of the patient's timeline ("started amlodipine 5 mg"): a marker on charts.
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("at_ts", BigInteger, nullable=False),
    Column("utc_offset_min", SmallInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Index("ix_notes_patient", "patient_id", "at_ts"),
)

# Every "mark reviewed"; the list shows the newest per patient.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("reviewer_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("reviewed_ts", BigInteger, nullable=False),
    Index("ix_reviews_patient", "patient_id", "reviewed_ts"),
)

# The triage figures of one patient as of their latest data, recomputed from the rollups
# when the patient's data version moves on (so the clinic list reads one row per patient).
patient_summaries = Table(
    "patient_summaries",
    metadata,
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"),
           primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("computed_ts", BigInteger, nullable=False),
    Column("last_data_ts", BigInteger),
    Column("severity", SmallInteger, nullable=False, default=0),
    Column("stats", Text, nullable=False),
)

# A generated PDF report; stored in the database so any web process can serve what any
# worker produced.
reports = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_ts", BigInteger, nullable=False),
    Column("start_ts", BigInteger, nullable=False),
    Column("end_ts", BigInteger, nullable=False),
    Column("pages", SmallInteger, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Index("ix_reports_patient", "patient_id", "created_ts"),
)

# --- Access, consent, audit -----------------------------------------------------------------

# Append-only, hash-chained: each row's hash covers its fields and the previous row's hash,
# so a changed or deleted event breaks the chain (`healthdash audit verify`). No foreign
# keys: the log outlives the users and patients it names. Triggers (migration 0005) refuse
# UPDATE and DELETE.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("actor_id", Integer),
    Column("actor", String(254), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("patient_id", Integer),
    Column("target", String(300), nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
    Column("ip", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_ts", "ts"),
    Index("ix_audit_patient", "patient_id", "ts"),
    Index("ix_audit_actor", "actor_id", "ts"),
)

# Read-only access a patient gives a caregiver (by invitation); revocable.
caregivers = Table(
    "caregivers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("caregiver_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("granted_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("granted_ts", BigInteger, nullable=False),
    Column("revoked_ts", BigInteger),
    Column("revoked_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Index("ix_caregivers_caregiver", "caregiver_id"),
    Index("ix_caregivers_patient", "patient_id"),
)

# An invitation to become a patient's caregiver: only the token's hash is stored.
invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("email", String(254), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_ts", BigInteger, nullable=False),
    Column("expires_ts", BigInteger, nullable=False),
    Column("accepted_ts", BigInteger),
    Column("accepted_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
)

# An admin's time-limited, stated-reason access to one patient's data.
break_glass = Table(
    "break_glass",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("admin_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_ts", BigInteger, nullable=False),
    Column("expires_ts", BigInteger, nullable=False),
    Column("ended_ts", BigInteger),
    Index("ix_break_glass_admin", "admin_id", "expires_ts"),
)

# Server-side sessions: the cookie carries a random token, the table its SHA-256. Sign-out,
# idle timeout and absolute lifetime end a row; a copied cookie then opens nothing.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("last_seen_ts", BigInteger, nullable=False),
    Column("ended_ts", BigInteger),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
    Index("ix_user_sessions_user", "user_id"),
)

# Secrets at rest (provider OAuth tokens and the like), Fernet-encrypted with the key
# ring from settings; `healthdash rotate-key` re-encrypts them under the newest key.
secrets = Table(
    "secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE")),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("provider", String(40), nullable=False),
    Column("name", String(80), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("updated_ts", BigInteger, nullable=False),
    UniqueConstraint("patient_id", "user_id", "provider", "name", name="uq_secrets_owner"),
)
