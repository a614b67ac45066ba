"""Background callbacks in the browser: recompute a patient's rollups with progress."""

from __future__ import annotations

import pytest

from data import seed
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_recompute_job_runs_in_the_background_and_reports_progress(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator("a.patient-link").first.click()
    start = page.locator("#job-start")
    start.click()
    status = page.locator("#job-status")
    status.filter(has_text="Done").wait_for(timeout=90_000)
    assert "days of summaries rebuilt" in status.inner_text()
    progress = page.locator("#job-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max")
    assert start.is_enabled()
