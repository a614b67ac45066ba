"""Local accounts: sign-in and sign-out, server-side sessions, lockout and rate limit.

Sessions: sign-in clears the Flask session, starts a row in `user_sessions` and keeps only
its random token in the signed cookie (`begin_session`). flask-login's user loader accepts
the cookie only while that row is live (not ended, used within SESSION_IDLE_MINUTES, younger
than SESSION_MAX_HOURS); sign-out ends the row, so a copied cookie opens nothing afterwards.
Any other way of signing in (single sign-on) must call `begin_session` too.

Failures: one message for an unknown e-mail, a wrong password, a locked or a deactivated
account. LOGIN_MAX_FAILURES failures in a row lock the account for LOGIN_LOCK_MINUTES; the
page says so in the same words to everyone (it never tells whether this account is
locked), the audit log records `account_locked`, and a correct password resets the count.
POST /login is rate limited per client address (flask-limiter; Redis when REDIS_URL is set,
memory otherwise).

The sign-in page is one template; other sign-in methods add a link through the
`sso_link` slot (`server.extensions["healthdash.sso_link"]`: HTML, or a callable giving it).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from markupsafe import Markup

from auth.passwords import verify_password
from auth.principal import SessionUser, repository
from auth.security import csrf_field, new_csrf_token
from data.repository import UserRecord
from data.repository.base import now_ts
from settings import Settings

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
FAILED = "Unknown e-mail or wrong password."
EXPIRED = {
    "idle": "You were signed out after {minutes} minutes without activity. "
            "Please sign in again.",
    "lifetime": "Your session reached its {hours}-hour limit. Please sign in again.",
}
SESSION_KEY = "hd_session"  # the server-side session token in the signed cookie
MAX_EMAIL = 254
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work per request

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · HealthDash</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card">
<h1>HealthDash</h1><p class="muted">Sign in to see your health trends.</p>
{% if notice %}<p class="alert" role="status">{{ notice }}</p>{% endif %}
{% if error %}<p class="alert" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ url_for('auth.login', next=next) }}">
{{ csrf_field() }}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{{ email }}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="btn btn-primary">Sign in</button>
</form>
{{ sso_link|safe }}
<p class="muted small">After {{ max_failures }} failed attempts an account is locked for
{{ lock_minutes }} minutes.</p>
</main></body></html>"""

RATE_LIMITED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Too many attempts · HealthDash</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card"><h1>Too many attempts</h1>
<p>Too many sign-in attempts came from your address. Wait a minute, then
<a href="/login">try again</a>.</p></main></body></html>"""


def _settings() -> Settings:
    return current_app.extensions["healthdash.settings"]


def init_app(server: Flask) -> None:
    """Bind flask-login, the sign-in routes and the sign-in rate limit to the Flask server."""
    login_manager.init_app(server)
    login_manager.session_protection = "strong"
    server.register_blueprint(blueprint)
    settings: Settings = server.extensions["healthdash.settings"]
    limiter = Limiter(
        get_remote_address, app=server, key_prefix="healthdash",
        storage_uri=settings.redis_url or "memory://",
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2}
        if settings.redis_url else {},
        # a Redis outage must not stop sign-in: count in this process meanwhile
        in_memory_fallback_enabled=True, swallow_errors=True, headers_enabled=True,
    )
    server.view_functions["auth.login"] = limiter.limit(
        settings.login_rate_limit, methods=["POST"]
    )(server.view_functions["auth.login"])
    server.extensions["healthdash.limiter"] = limiter
    server.register_error_handler(429, _too_many)


def _too_many(_exc):
    log.warning("sign-in rate limit hit by %s", request.remote_addr)
    if request.path.startswith(("/_dash-", "/api/")):
        return jsonify(error="too many requests"), 429
    return RATE_LIMITED, 429, {"Content-Type": "text/html; charset=utf-8"}


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """The signed-in user, while the server-side session in the cookie is live."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token or not user_id.isdigit():
        _forget()
        return None
    settings = _settings()
    repo = repository()
    check = repo.check_session(token, idle_s=settings.session_idle_minutes * 60,
                               max_age_s=settings.session_max_hours * 3600)
    record = repo.user_by_id(int(user_id))
    if check.user_id is None or check.user_id != int(user_id):
        if check.ended_now and record is not None:
            repo.record("session_expired", actor=repo.principal_for(record),
                        actor_label=record.email, target=f"user:{record.id}",
                        detail={"reason": check.expired}, ip=request.remote_addr)
        _forget(check.expired)
        return None
    if record is None or not record.active:
        repo.end_session(token)
        _forget()
        return None
    return SessionUser(record, repo.principal_for(record))


def _forget(expired: str = "") -> None:
    """Drop the sign-in from the cookie; remember why, for the sign-in page."""
    for key in ("_user_id", "_fresh", "_id", SESSION_KEY):
        session.pop(key, None)
    if expired:
        session["expired"] = expired


def begin_session(record: UserRecord, method: str = "password") -> SessionUser:
    """Start a fresh session for a user who has just proved who they are.

    Clears the old session (no fixation), stores a new server-side session, replaces the
    CSRF token, resets the failed sign-in count and writes the `sign_in` audit event.
    """
    repo = repository()
    session.clear()
    session[SESSION_KEY] = repo.start_session(
        record.id, ip=request.remote_addr, user_agent=request.user_agent.string)
    new_csrf_token()
    repo.reset_failed_logins(record.id)
    user = SessionUser(record, repo.principal_for(record))
    login_user(user)
    repo.record("sign_in", actor=user.principal, actor_label=record.email,
                target=f"user:{record.id}", detail={"method": method}, ip=request.remote_addr)
    log.info("user %s signed in (%s)", record.id, method)
    return user


def safe_next(target: str | None) -> str:
    """A same-site path to go to after sign-in; anything else (open redirect) becomes /."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def _sso_link() -> Markup:
    link = current_app.extensions.get("healthdash.sso_link", "")
    return Markup(link() if callable(link) else link)


def _page(*, next_url: str, error: str | None = None, notice: str | None = None,
          email: str = "") -> str:
    settings = _settings()
    return render_template_string(
        PAGE, error=error, notice=notice, next=next_url, email=email, csrf_field=csrf_field,
        sso_link=_sso_link(), max_failures=settings.login_max_failures,
        lock_minutes=settings.login_lock_minutes,
    )


def _clean_label(text: str) -> str:
    """What a person typed, fit for the audit log: no control characters, bounded."""
    return "".join(c for c in text if c.isprintable())[:100]


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Show the form; on POST check the password and start a fresh session.

    The CSRF token of the form is checked before this runs (auth.security).
    """
    next_url = safe_next(request.args.get("next"))
    settings = _settings()
    if request.method == "GET":
        expired = session.pop("expired", None)
        notice = EXPIRED.get(expired, "").format(
            minutes=settings.session_idle_minutes, hours=settings.session_max_hours) or None
        return _page(next_url=next_url, notice=notice)
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    usable = (0 < len(email) <= MAX_EMAIL and email.isprintable()
              and len(password) <= MAX_PASSWORD)
    repo = repository()
    record = repo.user_by_email(email) if usable else None
    # the password is checked in every case, so every failure takes the same time
    ok = verify_password(record.password_hash if record else None, password[:MAX_PASSWORD])
    now = now_ts()
    reason = ""
    if record is None:
        reason = "unknown user"
    elif not record.active:
        reason = "inactive"
    elif repo.login_state(record.id).locked(now):
        reason = "locked"
    elif not ok:
        reason = "wrong password"
        if repo.note_failed_login(record.id, max_failures=settings.login_max_failures,
                                  lock_s=settings.login_lock_minutes * 60, now=now):
            repo.record("account_locked", actor_label=_clean_label(email),
                        target=f"user:{record.id}",
                        detail={"failures": settings.login_max_failures,
                                "minutes": settings.login_lock_minutes},
                        ip=request.remote_addr)
            log.warning("account %s locked after %d failed sign-ins", record.id,
                        settings.login_max_failures)
    if reason:
        repo.record("sign_in_failed", actor=None, actor_label=_clean_label(email) or "(empty)",
                    target=f"user:{record.id}" if record else "", detail={"reason": reason},
                    ip=request.remote_addr)
        log.info("failed sign-in (%s)", reason)
        return _page(next_url=next_url, error=FAILED, email=email[:MAX_EMAIL]), 401
    begin_session(record, "password")
    return redirect(next_url)


LOGOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out · HealthDash</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card">
<h1>HealthDash</h1><p>Sign out of HealthDash?</p>
<form method="post" action="/logout">{{ csrf_field() }}
<button type="submit" class="btn btn-primary" id="confirm-logout">Sign out</button>
<a href="/" class="ms-3">Stay signed in</a>
</form></main></body></html>"""


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    """POST ends the server-side session; GET only asks (a GET must not change state)."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return render_template_string(LOGOUT_PAGE)
    token = session.get(SESSION_KEY)
    repo = repository()
    if current_user.is_authenticated:
        repo.record("sign_out", actor=current_user.principal,
                    actor_label=current_user.record.email,
                    target=f"user:{current_user.record.id}", ip=request.remote_addr)
    if isinstance(token, str) and token:
        repo.end_session(token)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
