"""Browser-side protection: CSRF tokens, security headers, the proxy setting.

CSRF: one random token per session (`session["csrf"]`), created on first use, replaced at
sign-in. Every state-changing request (any method but GET/HEAD/OPTIONS/TRACE, on any route,
Dash callbacks and the upload API included) must carry it in an `X-CSRF-Token` header, or
for an HTML form in a `csrf_token` field; it is compared with `hmac.compare_digest`.
Requests to `/api/` authenticated by an API key (`Authorization: Bearer`) carry no cookie
and are exempt, as are views marked with `csrf_exempt` (webhooks that sign their bodies).
Pages get the token in `<meta name="csrf-token">`; `assets/csrf.js` adds the header to the
page's same-origin fetch and XMLHttpRequest calls. No inline script is involved.

Headers: a Content-Security-Policy without 'unsafe-eval' and without inline scripts except
Dash's own, allowed by hash (`Dash.csp_hashes()`); nosniff; a same-origin Referrer-Policy;
no framing; HSTS when the request came over HTTPS or the session cookie is HTTPS-only.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from html import escape
from typing import Any

from dash import Dash
from flask import Flask, current_app, jsonify, request, session
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import Settings

log = logging.getLogger(__name__)

CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SCRIPT_PREFIXES = ("/_dash-", "/api/", "/_reload-hash")
_EXEMPT_ATTR = "_healthdash_csrf_exempt"
HSTS = "max-age=31536000"

CSRF_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form expired · HealthDash</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card"><h1>This form has expired</h1>
<p>The page you sent it from is too old, or it did not come from HealthDash.
Go back to <a href="/">HealthDash</a>, reload the page and try again.</p></main></body></html>"""


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def new_csrf_token() -> str:
    """Replace the session's CSRF token (at sign-in, with the new session)."""
    session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_SESSION_KEY]


def csrf_field() -> Markup:
    """The hidden form field that carries the token in a server-rendered form."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def csrf_exempt(view: Callable) -> Callable:
    """Mark a view that authenticates its callers without the session cookie."""
    setattr(view, _EXEMPT_ATTR, True)
    return view


def _exempt() -> bool:
    if request.method in SAFE_METHODS:
        return True
    auth = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and auth.startswith("Bearer "):
        return True  # an API key: no cookie, nothing a third-party page can make a browser send
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(view is not None and getattr(view, _EXEMPT_ATTR, False))


def _sent_token() -> str:
    token = request.headers.get(CSRF_HEADER, "")
    if not token and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        token = request.form.get(CSRF_FIELD, "")
    return token


def check_csrf():
    """before_request: refuse a state-changing request without this session's token."""
    if _exempt():
        return None
    expected = session.get(CSRF_SESSION_KEY)
    sent = _sent_token()
    if (isinstance(expected, str) and expected and sent
            and hmac.compare_digest(sent.encode(), expected.encode())):
        return None
    log.warning("CSRF check failed: %s %s", request.method, request.path)
    if request.path.startswith(SCRIPT_PREFIXES) or (
        request.accept_mimetypes.best == "application/json"
    ):
        return jsonify(error="csrf"), 403
    return CSRF_PAGE, 403, {"Content-Type": "text/html; charset=utf-8"}


def content_security_policy(script_hashes: list[str]) -> str:
    """The policy for every response.

    style-src keeps 'unsafe-inline': plotly.js and Dash components add <style> elements and
    style attributes at run time (see docs/decisions.md); scripts get no such allowance.
    """
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app: Dash, settings: Settings) -> None:
    """Install the proxy fix, the CSRF check, the token in Dash's page and the headers.

    Call after the guard (its 401 for anonymous scripts comes before the CSRF 403) and
    after the Dash app exists.
    """
    server: Flask = app.server
    if settings.trust_proxy:
        hops = settings.trust_proxy
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                   x_port=hops, x_prefix=hops)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
    )
    server.before_request(check_csrf)
    server.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
    _add_token_to_dash_index(app)

    policy: dict[str, str] = {}

    def headers(response):
        if "csp" not in policy:  # after every callback is registered: Dash's inline scripts
            policy["csp"] = content_security_policy(list(app.csp_hashes()))
        h = response.headers
        h.setdefault("Content-Security-Policy", policy["csp"])
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure or settings.session_cookie_secure:
            h.setdefault("Strict-Transport-Security", HSTS)
        if request.path.startswith(SCRIPT_PREFIXES) and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store"  # callback and API answers carry health data
        return response

    server.after_request(headers)


def _add_token_to_dash_index(app: Dash) -> None:
    """Put `<meta name="csrf-token">` into every Dash page (per session, so per request)."""
    original = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        meta = f'<meta name="csrf-token" content="{escape(csrf_token())}">'
        kwargs["metas"] = meta + "\n      " + kwargs.get("metas", "")
        return original(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign]
