"""The composition root: `create_app(settings)` wires everything.

`app`, `server` and `celery_app` are built on first access (PEP 562), so gunicorn
(`app:server`) and Celery (`app:celery_app`) get a configured app while tests that import
`create_app` do not build one as a side effect.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import diskcache
from celery import Celery
from dash import CeleryManager, Dash, DiskcacheManager
from flask import Flask, jsonify, redirect, request
from flask_caching import Cache
from flask_login import current_user

from api import errors as api_errors
from api.imports import blueprint as imports_blueprint
from api.openapi import blueprint as openapi_blueprint
from api.reports import blueprint as reports_blueprint
from api.v1 import blueprint as api_blueprint
from auth import audit_hooks, guard, login, oidc, security
from callbacks import register_all
from components.shell import shell
from data.cache import QueryCache, cache_config
from data.db import detect_capabilities, make_engine
from data.dispatch import TASK_NAME, CeleryDispatcher, ProcessDispatcher, run_in_process
from data.repository import Repository
from data.secrets import SecretBox
from settings import Settings, get_settings

log = logging.getLogger("healthdash")


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app and its Flask server for the given settings."""
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    log.info(detect_capabilities(engine).describe())

    server = Flask(__name__)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    cache = Cache(config=cache_config(
        settings.redis_url, str(settings.data_dir / "cache"), settings.cache_ttl_s
    ))
    cache.init_app(server)
    repository = Repository(engine, QueryCache(cache.cache, settings.cache_ttl_s))
    repository.configure_secrets(SecretBox.from_settings(settings.secret_keys,
                                                         settings.secret_key))
    server.extensions["healthdash.repository"] = repository
    server.extensions["healthdash.settings"] = settings
    server.add_url_rule("/healthz", "healthz", lambda: jsonify(status="ok"))
    login.init_app(server)
    oidc.init_app(server, settings)  # single sign-on, when the OIDC_* settings are set
    guard.init_app(server)
    audit_hooks.init_app(server)  # audit context per request (channel, client IP)
    server.register_blueprint(api_blueprint)
    server.register_blueprint(imports_blueprint)
    server.register_blueprint(reports_blueprint)
    server.register_blueprint(openapi_blueprint)
    api_errors.init_app(server)  # JSON errors under /api/, never a stack trace
    server.before_request(_send_clinicians_to_their_list)

    manager, celery_app = _background_manager(settings)
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="pages",
        title="HealthDash",
        suppress_callback_exceptions=True,
        background_callback_manager=manager,
        update_title=None,
    )
    # the document's language, for screen readers and axe-core's html-has-lang rule
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    app.layout = _layout
    register_all(app, settings)
    security.init_app(app, settings)  # CSRF, CSP and other security headers
    server.extensions["healthdash.celery"] = celery_app
    server.extensions["healthdash.dispatcher"] = _dispatcher(settings, celery_app)
    return app


def _dispatcher(settings: Settings, celery_app: Celery | None):
    """Where import jobs run: Celery workers in production, a process of their own otherwise."""
    if celery_app is None:
        return ProcessDispatcher(settings.resolved_database_url)
    url = settings.resolved_database_url

    @celery_app.task(name=TASK_NAME)
    def run_import_task(job_id: str) -> None:
        run_in_process(url, job_id)

    return CeleryDispatcher(celery_app)


def _layout():
    """The shell around the current page, with the signed-in user's navigation."""
    user = current_user if current_user.is_authenticated else None
    return shell(
        user.record.display_name if user else None,
        user.record.role if user else None,
        dash.page_container,
        csrf_token=security.csrf_token() if user else "",
    )


def _send_clinicians_to_their_list():
    """`/` is a patient's own overview; clinicians and admins start at their patient list."""
    if request.path == "/" and current_user.is_authenticated and (
        current_user.principal.role in ("clinician", "admin")
    ):
        return redirect("/patients")
    return None


def _background_manager(settings: Settings) -> tuple[Any, Celery | None]:
    """Celery with Redis in production; a diskcache queue on one machine."""
    if settings.redis_url:
        celery_app = Celery("healthdash", broker=settings.redis_url, backend=settings.redis_url)
        return CeleryManager(celery_app), celery_app
    jobs = diskcache.Cache(str(settings.data_dir / "jobs"))
    return DiskcacheManager(jobs), None


_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in ("app", "server", "celery_app"):
        raise AttributeError(name)
    if not _built:
        built = create_app()
        _built.update(app=built, server=built.server,
                      celery_app=built.server.extensions["healthdash.celery"])
    return _built[name]


if __name__ == "__main__":
    _settings = get_settings()
    create_app(_settings).run(host=_settings.host, port=_settings.port, debug=_settings.debug)
