"""A real server on a real port, seeded with demo data, and Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from werkzeug.serving import make_server

from app import create_app
from auth.passwords import hash_password
from data import seed
from data.migrate import upgrade
from data.repository import ObservationBatch, Repository
from settings import Settings
from tests.conftest import unavailable

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
OTHER_CLINICIAN = "other.clinician@example.org"
OTHER_PASSWORD = "another-password"


@dataclass(frozen=True)
class Site:
    """The running server and who is in it."""

    url: str
    repo: Repository
    other_patient: int


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    """The app over HTTP on 127.0.0.1, seeded with 60 days of demo data for 3 patients."""
    data_dir = tmp_path_factory.mktemp("site")
    # every test signs in from 127.0.0.1: lift the sign-in rate limit (tested on its own)
    settings = Settings(data_dir=data_dir, secret_key="browser-test",
                        login_rate_limit="1000 per minute", _env_file=None)
    app = create_app(settings)
    repo: Repository = app.server.extensions["healthdash.repository"]
    upgrade(repo.engine)
    seed.seed_demo(repo, hash_password, clinic_patients=2, days=60, end=date.today(),
                   workers=1)
    other = repo.create_user(OTHER_CLINICIAN, "Dr. Other", "clinician",
                             hash_password(OTHER_PASSWORD))
    patient = repo.create_patient("Zed Elsewhere", "UTC")
    repo.add_to_care_team(other, patient)
    now = int(__import__("time").time())
    repo.upsert_observations(ObservationBatch(patient, [
        ("body_mass", now - d * 86400, now - d * 86400, 0, 90.0, "Scale") for d in range(5)
    ], {"Scale": "scale"}))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", repo, patient)
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, without network side trips."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        unavailable(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        ])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def sign_in(page, site: Site, email: str, password: str = seed.DEMO_PASSWORD) -> None:
    """Use the sign-in form like a person would."""
    page.goto(f"{site.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
