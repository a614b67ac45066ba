"""The before_request guard: nothing but sign-in and static files without a session.

Dash callbacks (`/_dash-update-component`) are HTTP endpoints like any other and get the
same treatment; API-style requests get a 401 JSON body, pages a redirect to sign-in.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, redirect, request, url_for
from flask_login import current_user

from auth.principal import repository
from data.access import AccessDenied

PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/favicon.ico",
                          "/login/oidc", "/login/oidc/callback"})  # single sign-on
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
XHR_PREFIXES = ("/_dash-", "/api/", "/_reload-hash")


def is_public(path: str) -> bool:
    """Paths served without a session: sign-in, health check, static files."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def wants_json(path: str) -> bool:
    """Requests made by scripts rather than by a person navigating."""
    return path.startswith(XHR_PREFIXES) or request.accept_mimetypes.best == "application/json"


def init_app(server: Flask) -> None:
    """Install the guard and map access errors to 403 everywhere."""

    @server.before_request
    def require_login():
        if is_public(request.path):
            return None
        header = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and header.startswith("Bearer "):
            return _api_key(header.removeprefix("Bearer ").strip())
        if current_user.is_authenticated:
            return None
        if wants_json(request.path):
            return jsonify(error="authentication required"), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    def _api_key(token: str):
        repo = repository()
        key = repo.check_api_key(token)
        user = repo.user_by_id(key.user_id) if key else None
        if key is None or user is None or not user.active:
            return jsonify(error="invalid API key"), 401
        g.api_principal = repo.principal_for(user)
        g.api_scopes = key.scopes
        return None

    @server.errorhandler(AccessDenied)
    def forbidden(exc: AccessDenied):
        return jsonify(error="forbidden", detail=str(exc)), 403
