"""Open an audit context for every request, naming the channel a read comes through.

The repository records reads (`data.audit_context.note_access`, called by `authorize`);
this hook only says where a request came from:

- a Dash callback: "callback <output id>.<property>[,…]" from the request body, or
  "page <path>" for the callback that renders a page's layout (Dash pages);
- the REST API: "api GET /api/v1/patients/3/series" (exports re-label themselves);
- anything else: "http GET /reports/….pdf" and so on.

Static files and the health check get no context (they read no patient data).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from flask import Flask, g, request

from data import audit_context

_PAGES_CONTENT = "_pages_content"
_PAGES_LOCATION = "_pages_location"
_STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")


def init_app(server: Flask) -> None:
    """Install the hooks that open and close the context around each request."""

    @server.before_request
    def open_audit_context():
        path = request.path
        if path.startswith(_STATIC_PREFIXES) or path in ("/healthz", "/favicon.ico"):
            return None
        g._audit_token = audit_context.begin(channel_of_request(), ip=request.remote_addr)
        return None

    @server.teardown_request
    def close_audit_context(_exc):
        token = g.pop("_audit_token", None)
        if token is not None:
            # ValueError: opened in another context (a copied request context)
            with contextlib.suppress(ValueError):
                audit_context.end(token)


def channel_of_request() -> str:
    """The channel of the current request (see the module docstring)."""
    path = request.path
    if path.endswith("/_dash-update-component") and request.method == "POST":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            return channel_of_callback(body)
        return "callback (unreadable body)"
    if path.startswith("/api/"):
        return f"api {request.method} {path}"
    return f"http {request.method} {path}"


def channel_of_callback(body: dict[str, Any]) -> str:
    """"callback clin-stats-weight.children,clin-graph-weight.figure" or "page /patients/3"."""
    outputs = body.get("outputs")
    if isinstance(outputs, dict):
        outputs = [outputs]
    names = []
    for out in outputs if isinstance(outputs, list) else []:
        if isinstance(out, dict):
            names.append(f"{_id_text(out.get('id'))}.{out.get('property')}")
    if not names and isinstance(body.get("output"), str):
        names = [body["output"].strip(".")]
    if any(name.startswith(_PAGES_CONTENT + ".") for name in names):
        for item in body.get("inputs") or []:
            if isinstance(item, dict) and item.get("id") == _PAGES_LOCATION and item.get(
                    "property") == "pathname":
                return f"page {item.get('value')}"
    return "callback " + ",".join(names)


def _id_text(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)
