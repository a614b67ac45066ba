"""One settings object for the whole app, read from the environment (prefix-free) and `.env`.

Every field is documented in README.md ("Settings"); keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Configuration; the defaults give the embedded single-machine setup (SQLite, no services)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where SQLite, caches and jobs live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/healthdash.db."
    )
    redis_url: str | None = Field(
        None, description="Redis for cache and Celery; unset = filesystem cache + diskcache."
    )
    secret_key: str = Field(
        "dev-insecure-change-me", description="Flask session signing key; set in production."
    )
    host: str = Field("127.0.0.1", description="Bind address for `healthdash run`.")
    port: int = Field(8050, description="Port for `healthdash run`.")
    debug: bool = Field(False, description="Dash dev tools and reloader; never in production.")
    cache_ttl_s: int = Field(3600, description="Lifetime of a cached query result.")
    max_points: int = Field(2000, description="Most points a chart trace carries.")
    session_cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only; set behind TLS."
    )
    session_idle_minutes: int = Field(
        15, ge=1, description="A sign-in session ends after this many minutes without use."
    )
    session_max_hours: int = Field(
        12, ge=1, description="A sign-in session ends this many hours after sign-in, used or not."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins in a row after which an account is locked."
    )
    login_lock_minutes: int = Field(
        15, ge=1, description="How long an account stays locked after too many failures."
    )
    login_rate_limit: str = Field(
        "10 per minute;100 per hour",
        description="Sign-in attempts (POST /login) allowed per client IP; flask-limiter syntax.",
    )
    trust_proxy: int = Field(
        0, ge=0, description="Reverse proxies in front whose X-Forwarded-* headers to trust.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    demo_seed: int = Field(7, description="Seed of the demo data generator.")
    max_import_bytes: int = Field(
        8 * 2**30, description="Largest export accepted for import (bytes, compressed)."
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'healthdash.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
