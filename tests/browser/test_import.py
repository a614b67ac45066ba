"""Importing an Apple Health export in the browser: chunked upload, background job, report."""

from __future__ import annotations

import pytest

from bench.applehealth_gen import generate_export
from data import seed
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def export_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "export.zip"
    truth = generate_export(path, records=4000, seed=3)
    return path, truth


def test_upload_imports_in_the_background_and_survives_leaving_the_page(page, site,
                                                                        export_zip):
    path, truth = export_zip
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.goto(f"{site.url}/sources")
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-start")
    page.get_by_text("Importing in the background").wait_for(timeout=60_000)
    page.goto(f"{site.url}/")  # leave while it runs
    page.goto(f"{site.url}/sources")
    page.locator("#job-state[data-state=done]").wait_for(timeout=120_000)
    report = page.locator("#import-report")
    steps = report.locator("tr", has_text="HKQuantityTypeIdentifierStepCount")
    cells = steps.locator("td").all_inner_texts()
    assert int(cells[1].replace(",", "")) == truth.records_by_type[
        "HKQuantityTypeIdentifierStepCount"]
    assert page.locator("#job-counts").inner_text().startswith(
        f"{truth.total_records:,} records read")

    # the same file again: nothing new
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-start")
    page.locator("#job-counts", has_text=" 0 new").wait_for(timeout=120_000)
