"""The principal of the current request, built from the flask-login session."""

from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_login import UserMixin, current_user

from data.access import AccessDenied, Principal
from data.repository import Repository, UserRecord


class SessionUser(UserMixin):
    """flask-login's view of a user; carries the principal it acts as."""

    def __init__(self, record: UserRecord, principal: Principal):
        self.record = record
        self.principal = principal

    def get_id(self) -> str:
        return str(self.record.id)

    @property
    def is_active(self) -> bool:
        return self.record.active


def repository() -> Repository:
    """The app's repository (bound in create_app)."""
    return current_app.extensions["healthdash.repository"]


def current_principal() -> Principal:
    """The principal of this request: an API key's user, or the signed-in user.

    Anonymous requests never get this far (the guard answers them first).
    """
    if has_request_context() and g.get("api_principal") is not None:
        return g.api_principal
    if not current_user.is_authenticated:
        raise PermissionError("not signed in")
    return current_user.principal


def require_scope(scope: str) -> None:
    """Refuse an API key without the scope (sessions carry every scope of their role)."""
    scopes = g.get("api_scopes")
    if scopes is not None and scope not in scopes:
        raise AccessDenied(f"this API key lacks the {scope!r} scope")
