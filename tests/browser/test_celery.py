"""Production mode: REDIS_URL set, background callbacks run by a real Celery worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from auth.passwords import hash_password
from data import seed
from data.db import make_engine
from data.migrate import upgrade
from data.repository import Repository
from tests.browser.conftest import Site, sign_in
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def celery_site(tmp_path, redis_client):
    port = _free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path), "REDIS_URL": REDIS_URL,
           "SECRET_KEY": "celery-test", "DATABASE_URL": f"sqlite:///{tmp_path / 'hd.db'}",
           "HOST": "127.0.0.1", "PORT": str(port)}
    repo = Repository(make_engine(env["DATABASE_URL"]))
    upgrade(repo.engine)
    seed.seed_demo(repo, hash_password, clinic_patients=1, days=14, end=date.today(), workers=1)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    # The web app runs in a process of its own, like the worker: Dash keeps one background
    # function per callback per process, so a second app in the test process would take
    # over the session-wide site's background callbacks (its key and its database).
    web = subprocess.Popen([sys.executable, "-m", "cli", "run"], cwd=ROOT, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail("the web process did not start; see worker.log")
    yield Site(url, repo, -1), tmp_path / "worker.log"
    web.terminate()
    web.wait(timeout=20)
    worker.terminate()
    worker.wait(timeout=20)
    log.close()


def test_a_celery_worker_runs_the_recompute_job(page, celery_site):
    site, worker_log = celery_site
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator("a.patient-link").first.click()
    page.locator("#job-start").click()
    status = page.locator("#job-status")
    status.filter(has_text="Done").wait_for(timeout=90_000)
    assert "days of summaries rebuilt" in status.inner_text()
    assert " succeeded in " in worker_log.read_text(), "the Celery worker ran the task"
