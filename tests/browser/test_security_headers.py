"""In Chromium, under the app's Content Security Policy: charts draw, nothing is refused,
callbacks carry the CSRF header (assets/csrf.js), and an idle session sends the page back to
sign-in with a plain message."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from data import schema as s
from data import seed
from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import DRAWN

pytestmark = pytest.mark.browser

# a test-side listener (injected by Playwright, not by the app): every CSP refusal
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  [e.violatedDirective, e.blockedURI, (e.sample || '').slice(0, 80)]));"""


@pytest.fixture
def watched(page):
    """The page, with CSP violations and 'Refused to …' console errors collected."""
    refused: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.refused = refused
    return page


def violations(page) -> list:
    return page.evaluate("window.__csp || []") + page.refused


def test_the_patient_page_draws_its_charts_under_the_policy(watched, site):
    page = watched
    responses = []
    page.on("response", lambda r: responses.append(r)
            if r.request.resource_type == "document" else None)
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.wait_for_function(DRAWN, arg=10)
    page.wait_for_function("""() => {
      const g = document.querySelector('#clin-graph-heatmap .js-plotly-plot');
      return g && g.data && g.data.some(t => t.type === 'heatmap');
    }""")
    page.mouse.move(700, 500)  # hover: plotly's hover layer and modebar
    page.wait_for_timeout(500)
    headers = responses[-1].all_headers()
    policy = headers["content-security-policy"]
    assert "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert violations(page) == []


def test_a_note_added_in_the_page_carries_the_csrf_header(watched, site):
    page = watched
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("x-csrf-token"))
            if r.url.endswith("/_dash-update-component") else None)
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator("a.patient-link").first.click()
    page.wait_for_function(DRAWN, arg=5)
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert token
    page.fill("#clin-note-text", "Checked under the CSP")
    page.click("#clin-note-add")
    page.locator("#clin-note-status").filter(has_text="Note added").wait_for()
    page.locator("#clin-note-list").filter(has_text="Checked under the CSP").wait_for()
    assert sent and set(sent) == {token}, "every callback carried this session's token"
    # XMLHttpRequest gets the header as well (nothing of ours uses it today)
    status = page.evaluate("""async () => {
      const r = await new Promise(done => {
        const x = new XMLHttpRequest();
        x.open('POST', '/_dash-update-component');
        x.setRequestHeader('Content-Type', 'application/json');
        x.onload = () => done(x.status);
        x.send('{}');
      });
      return r;
    }""")
    assert status not in (401, 403)
    assert violations(page) == []


def test_an_idle_session_returns_to_sign_in_with_a_message(page, site):
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.wait_for_function(DRAWN, arg=3)
    user_id = site.repo.user_by_email(seed.PATIENT_EMAIL).id
    with site.repo.engine.begin() as conn:  # 16 minutes without use
        conn.execute(update(s.user_sessions).where(s.user_sessions.c.user_id == user_id)
                     .values(last_seen_ts=int(time.time()) - 16 * 60))
    page.locator("#clin-range input[value='30d']").focus()  # any callback will do
    page.keyboard.press("Space")
    page.wait_for_url("**/login?next=*")
    page.locator(".alert").filter(has_text="signed out after 15 minutes").wait_for()
    page.fill("#email", seed.PATIENT_EMAIL)
    page.fill("#password", seed.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function(DRAWN, arg=3)
