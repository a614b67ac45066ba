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
    secret_keys: str | None = Field(
        None, description="Fernet keys for secrets at rest, comma-separated, newest first; "
        "unset = one key derived from SECRET_KEY (HKDF). Rotate with `healthdash rotate-key`.",
    )
    oidc_issuer: str | None = Field(
        None, description="OpenID Connect issuer URL (discovery at "
        "<issuer>/.well-known/openid-configuration); with the client id and secret it "
        "switches single sign-on on.",
    )
    oidc_client_id: str | None = Field(None, description="OIDC client id at the provider.")
    oidc_client_secret: str | None = Field(None, description="OIDC client secret.")
    oidc_scopes: str = Field(
        "openid email profile", description="Scopes asked for at sign-on (openid is required)."
    )
    oidc_groups_claim: str = Field(
        "groups", description="ID token claim (or userinfo field) listing the user's groups."
    )
    oidc_group_roles: dict[str, str] = Field(
        default_factory=dict, description='Group -> role, JSON, e.g. {"hd-admins": "admin", '
        '"hd-clinicians": "clinician"}; the first entry whose group the user has wins.',
    )
    oidc_default_role: str | None = Field(
        None, description="Role for a user in none of the mapped groups; unset = refuse sign-on."
    )
    oidc_create_users: bool = Field(
        True, description="Create an account at first sign-on when none matches."
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'healthdash.db').resolve()}"

    @property
    def oidc_enabled(self) -> bool:
        """Single sign-on is on when issuer, client id and client secret are all set."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
