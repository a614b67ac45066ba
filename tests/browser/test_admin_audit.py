"""In Chromium: an admin searches the audit log and checks the chain; axe-core finds no
serious violations; a clinician gets "No access"."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from data import seed
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser
ROWS = "table.audit-table tbody tr"


def test_an_admin_searches_the_log_and_verifies_the_chain(page, site):
    # a clinician's page view writes read events for the patient it shows
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator("a.patient-link").first.click()
    page.locator("#clin-graph-weight .js-plotly-plot").wait_for()
    page.wait_for_load_state("networkidle")
    page.click("#nav-logout")  # the navigation's sign-out form (a POST with the CSRF token)
    page.wait_for_url(f"{site.url}/login**")

    sign_in(page, site, seed.ADMIN_EMAIL)
    page.goto(f"{site.url}/admin/audit")
    page.locator(ROWS).first.wait_for()
    page.get_by_label("Actor (e-mail or user id)").fill(seed.CLINICIAN_EMAIL)
    page.get_by_label("Action").select_option("read")
    page.get_by_role("button", name="Search").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('table.audit-table tbody tr')].length > 0 && "
        "[...document.querySelectorAll('table.audit-table tbody tr')].every("
        "r => r.cells[1].textContent.startsWith('clinician@') && r.cells[3].textContent === "
        "'read')")
    targets = page.locator(f"{ROWS} td.audit-target").all_inner_texts()
    assert any(t.startswith("callback clin-") for t in targets), targets

    page.get_by_role("button", name="Verify chain").click()
    ok = page.locator("#audit-verify-ok")
    ok.wait_for()
    assert "Chain intact" in ok.inner_text()
    assert len(page.locator("#audit-verify-result code").inner_text()) == 64

    results = Axe().run(page)
    serious = [v for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:5]) for v in serious)


def test_a_clinician_gets_no_access(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.goto(f"{site.url}/admin/audit")
    page.locator("#no-access").wait_for()
    assert page.locator("table.audit-table").count() == 0
