"""Local accounts: sign-in and sign-out pages, session loading, the post-login redirect."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, render_template_string, request, session, url_for
from flask_login import LoginManager, login_user, logout_user

from auth.passwords import verify_password
from auth.principal import SessionUser, repository

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
FAILED = "Unknown e-mail or wrong password."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · HealthDash</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card">
<h1>HealthDash</h1><p class="muted">Sign in to see your health trends.</p>
{% if error %}<p class="alert" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ url_for('auth.login', next=next) }}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{{ email }}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="btn btn-primary">Sign in</button>
</form></main></body></html>"""


def init_app(server: Flask) -> None:
    """Bind flask-login and the sign-in routes to the Flask server."""
    login_manager.init_app(server)
    login_manager.session_protection = "strong"
    server.register_blueprint(blueprint)


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Rebuild the session user from the id kept in the signed session cookie."""
    repo = repository()
    record = repo.user_by_id(int(user_id)) if user_id.isdigit() else None
    if record is None or not record.active:
        return None
    return SessionUser(record, repo.principal_for(record))


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


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Show the form; on POST check the password and start a fresh session."""
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template_string(PAGE, error=None, next=next_url, email="")
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    repo = repository()
    record = repo.user_by_email(email) if email else None
    if not verify_password(record.password_hash if record else None, password) or (
        record is None or not record.active
    ):
        log.info("failed sign-in for %r", email)
        page = render_template_string(PAGE, error=FAILED, next=next_url, email=email)
        return page, 401
    session.clear()  # a new session at sign-in: no fixation
    login_user(SessionUser(record, repo.principal_for(record)))
    log.info("user %s signed in", record.id)
    return redirect(next_url)


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    """End the session and return to the sign-in page."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
