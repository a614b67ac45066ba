"""The principal of the current request, built from the flask-login session."""

from __future__ import annotations

from flask import current_app
from flask_login import UserMixin, current_user

from data.access import Principal
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
    """The signed-in user's principal; anonymous requests never reach callbacks (guard)."""
    if not current_user.is_authenticated:
        raise PermissionError("not signed in")
    return current_user.principal
