"""Errors under /api/ answer JSON `{error, detail}`, never an HTML page or a stack trace.

HTTP errors (404, 405, 413, 415 …) keep their status; anything unexpected is logged with
its traceback and answered with a plain JSON 500. Other paths keep Flask's own handling.
The aim is that the 500 never happens: the routes check their input and answer 4xx.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def _api() -> bool:
    return request.path.startswith("/api/")


API_BLUEPRINTS = frozenset({"api_v1", "api_imports", "api_openapi"})


def init_app(server: Flask) -> None:
    """Install the handlers (after the blueprints: theirs stay more specific)."""

    @server.before_request
    def api_paths_are_api_routes():
        # Dash's page catch-all would answer any unknown /api/ path with its HTML shell
        if _api() and request.routing_exception is None and (
                request.blueprint not in API_BLUEPRINTS):
            return jsonify(error="not found", detail=f"no API route {request.path}"), 404
        return None

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not _api():
            return exc
        return jsonify(error=(exc.name or "error").lower(),
                       detail=exc.description or ""), exc.code or 500

    @server.errorhandler(Exception)
    def unexpected(exc: Exception):
        if not _api():
            raise exc
        log.exception("unexpected error in %s %s", request.method, request.path)
        return jsonify(error="internal error",
                       detail="Something failed on our side; it has been logged."), 500
