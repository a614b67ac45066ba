"""Fixtures for tests of the web app over Flask's test client (real database, real Redis)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest

from app import create_app
from auth.passwords import hash_password
from data.migrate import upgrade
from data.repository import ObservationBatch, Repository
from settings import Settings

PASSWORD = "correct horse battery"
KINDS = {"Apple Watch": "watch", "Scale": "scale"}


@dataclass
class World:
    """Two patients, their logins, a clinician for each, an admin."""

    app: object
    repo: Repository
    patient_a: int
    patient_b: int
    day: int  # UTC midnight on the first day of data, ten days ago


def make_world(tmp_path, database_url: str | None = None, redis_url: str | None = None,
               **overrides) -> World:
    """An app on a fresh database with a small, known cast (`overrides`: other settings).

    Tests sign in many times from one address: the sign-in rate limit is lifted unless a
    test sets its own (tests/integration/test_signin_security.py does).
    """
    overrides.setdefault("login_rate_limit", "1000 per minute")
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=redis_url,
                        secret_key="test-secret", _env_file=None, **overrides)
    app = create_app(settings)
    repo: Repository = app.server.extensions["healthdash.repository"]
    upgrade(repo.engine)
    pw = hash_password(PASSWORD)
    ua = repo.create_user("ada@example.org", "Ada", "patient", pw)
    ub = repo.create_user("ben@example.org", "Ben", "patient", pw)
    a = repo.create_patient("Ada Lovelace-Example", "Europe/Paris", user_id=ua)
    b = repo.create_patient("Ben Example", "UTC", user_id=ub)
    doc_a = repo.create_user("doc.a@example.org", "Doc A", "clinician", pw)
    doc_b = repo.create_user("doc.b@example.org", "Doc B", "clinician", pw)
    repo.create_user("admin@example.org", "Admin", "admin", pw)
    repo.add_to_care_team(doc_a, a)
    repo.add_to_care_team(doc_b, b)
    day = (int(time.time()) // 86400 - 10) * 86400
    for patient in (a, b):
        rows = [("body_mass", day + d * 86400 + 25200, day + d * 86400 + 25200, 60,
                 70.0 + patient + d / 10, "Scale") for d in range(10)]
        rows += [("heart_rate", day + i * 60, day + i * 60, 60, 60.0 + i % 30, "Apple Watch")
                 for i in range(600)]
        repo.upsert_observations(ObservationBatch(patient, rows, KINDS))
    return World(app, repo, a, b, day)


@pytest.fixture
def world(tmp_path) -> World:
    """The cast on an embedded SQLite database, no Redis."""
    return make_world(tmp_path)


def form_token(client) -> str:
    """The CSRF token in the sign-in form's hidden field, as a browser receives it."""
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def page_token(client) -> str:
    """The CSRF token a signed-in page gives its scripts (<meta name="csrf-token">)."""
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, next_url: str | None = None,
          csrf: bool = True):
    """Sign in through the real form; then send the page's CSRF token on every request,
    as assets/csrf.js does in the browser (csrf=False leaves that out)."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    client.environ_base.pop("HTTP_X_CSRF_TOKEN", None)
    response = client.post(url, data={"email": email, "password": password,
                                      "csrf_token": form_token(client)})
    if csrf and response.status_code == 302:
        client.environ_base["HTTP_X_CSRF_TOKEN"] = page_token(client)
    return response


def logout(client):
    """Sign out the way the navigation bar does: a POST carrying the CSRF token."""
    token = client.environ_base.get("HTTP_X_CSRF_TOKEN") or page_token(client)
    response = client.post("/logout", data={"csrf_token": token})
    client.environ_base.pop("HTTP_X_CSRF_TOKEN", None)
    return response


def header_callback(patient_id: int) -> dict:
    """The overview's header/KPI callback, as the browser posts it."""
    return {
        "output": "..patient-header.children...kpi-row.children..",
        "outputs": [{"id": "patient-header", "property": "children"},
                    {"id": "kpi-row", "property": "children"}],
        "inputs": [{"id": "patient-store", "property": "data", "value": patient_id}],
        "changedPropIds": [],
    }


def panel_callback(patient_id: int, panel: str = "weight", range_key: str = "90d") -> dict:
    """A clinical panel callback (stats and chart of one panel), as the browser posts it."""
    return {
        "output": f"..clin-stats-{panel}.children...clin-graph-{panel}.figure..",
        "outputs": [{"id": f"clin-stats-{panel}", "property": "children"},
                    {"id": f"clin-graph-{panel}", "property": "figure"}],
        "inputs": [{"id": "clin-range", "property": "value", "value": range_key},
                   {"id": "clin-custom-range", "property": "start_date", "value": None},
                   {"id": "clin-custom-range", "property": "end_date", "value": None},
                   {"id": "clin-notes-version", "property": "data", "value": 0}],
        "state": [{"id": "patient-store", "property": "data", "value": patient_id}],
        "changedPropIds": [],
    }
