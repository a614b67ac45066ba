"""Callback registration: each module binds its callbacks to the app it is given."""

from __future__ import annotations

from dash import Dash

from callbacks import (
    admin,
    admin_audit,
    api_keys,
    clinical,
    explorer,
    jobs,
    notes,
    overview,
    patients,
    report,
    sharing,
    sources,
)
from settings import Settings


def register_all(app: Dash, settings: Settings) -> None:
    """Bind every callback of the product to `app`."""
    overview.register(app)
    explorer.register(app, settings)
    patients.register(app)
    jobs.register(app, settings)
    sources.register(app)
    clinical.register(app)
    notes.register(app)
    report.register(app, settings)
    admin_audit.register(app)
    sharing.register(app)
    admin.register(app)
    api_keys.register(app)
