"""Settings → API keys in Chromium: create (the key shown once), revoke, and axe-core."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from data import seed
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_create_copy_once_and_revoke(page, site):
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.goto(f"{site.url}/settings/api-keys")
    page.get_by_role("heading", name="Your keys").wait_for()
    page.wait_for_load_state("networkidle")
    assert not _serious(page)

    page.get_by_label("ingest", exact=False).check()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key")
    key.wait_for()
    token = key.input_value()
    assert token.startswith("hd_")
    prefix = token.split("_")[1]
    row = page.locator("tr", has_text=f"hd_{prefix}_")
    row.wait_for()
    assert "ingest, read" in row.inner_text() and "active" in row.inner_text()
    assert not _serious(page)

    page.reload()
    page.get_by_role("heading", name="Your keys").wait_for()
    assert token not in page.content()  # shown once: never again
    page.get_by_role("button", name=f"Revoke key hd_{prefix}_…").click()
    page.get_by_text("Key revoked").wait_for()
    assert "revoked" in page.locator("tr", has_text=f"hd_{prefix}_").inner_text()
