"""Production mode: REDIS_URL set, background callbacks run by a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from auth.passwords import hash_password
from data import seed
from data.migrate import upgrade
from settings import Settings
from tests.browser.conftest import Site, sign_in
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_site(tmp_path, redis_client):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "REDIS_URL": REDIS_URL,
           "SECRET_KEY": "celery-test", "DATABASE_URL": f"sqlite:///{tmp_path / 'hd.db'}"}
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL, secret_key="celery-test",
                        database_url=env["DATABASE_URL"], _env_file=None)
    app = create_app(settings)
    repo = app.server.extensions["healthdash.repository"]
    upgrade(repo.engine)
    seed.seed_demo(repo, hash_password, clinic_patients=1, days=14, end=date.today(), workers=1)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Site(f"http://127.0.0.1:{server.server_port}", repo, -1), tmp_path / "worker.log"
    server.shutdown()
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
