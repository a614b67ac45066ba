"""In Chromium: a patient invites a caregiver who accepts and reads the charts read-only until
revoked; an admin opens break-glass access; axe-core on the sharing and users pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from auth.passwords import hash_password
from data import seed
from tests.browser.conftest import OTHER_CLINICIAN, sign_in

pytestmark = pytest.mark.browser

CAREGIVER = "cleo.carer@example.org"
CAREGIVER_PASSWORD = "caring-password-1"
CHARTS_DRAWN = """(min) => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => (p.calcdata || []).some(points => points.length > 1)).length >= min"""


@pytest.fixture(scope="module")
def demo_patient(site) -> tuple[int, str]:
    """The demo patient's id and name; a caregiver account exists."""
    repo = site.repo
    if repo.user_by_email(CAREGIVER) is None:
        repo.create_user(CAREGIVER, "Cleo Carer", "caregiver", hash_password(CAREGIVER_PASSWORD))
    user = repo.user_by_email(seed.PATIENT_EMAIL)
    pid = repo.principal_for(user).patient_id
    return pid, user.display_name


@pytest.fixture
def other_page(browser):
    """A second person's browser (their own cookies)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_caregiver_accepts_reads_and_loses_access_when_revoked(page, other_page, site,
                                                                 demo_patient):
    pid, name = demo_patient
    # the patient invites
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.get_by_role("link", name="Sharing").click()
    page.get_by_label("Caregiver's e-mail").fill(CAREGIVER)
    page.get_by_role("button", name="Create invitation").click()
    link = page.get_by_label("Invitation link")
    link.wait_for()
    url = link.input_value()
    assert url.startswith(f"{site.url}/invite/")
    page.locator("#pending-table").filter(has_text=CAREGIVER).wait_for()

    # the caregiver signs in, opens the link, accepts
    sign_in(other_page, site, CAREGIVER, CAREGIVER_PASSWORD)
    other_page.locator("#caregiver-empty").wait_for()
    other_page.goto(url)
    other_page.locator("#invite-page").filter(has_text=name).wait_for()
    other_page.get_by_role("button", name="Accept invitation").click()
    other_page.locator("#invite-open").click()
    other_page.locator("#patient-header").filter(has_text=name).wait_for()
    other_page.wait_for_function(CHARTS_DRAWN, arg=8)
    # read-only: notes are listed, but no form, no review, no report, no maintenance
    other_page.locator("#clin-note-list").wait_for()
    for control in ("#clin-note-add", "#clin-review-button", "#report-start", "#job-start"):
        assert other_page.locator(control).count() == 0, control
    # the start page lists the patient
    other_page.goto(site.url)
    other_page.locator("#caregiver-patients").filter(has_text=name).wait_for()

    # the patient sees the caregiver and revokes
    page.reload()
    row = page.locator("#caregiver-table tr").filter(has_text=CAREGIVER)
    row.wait_for()
    row.get_by_role("button", name="Remove Cleo Carer's access").click()
    page.locator("#caregiver-list").filter(has_text="No caregivers.").wait_for()
    page.locator("#sharing-status").filter(has_text="removed").wait_for()

    # the caregiver's next request sees nothing
    other_page.goto(f"{site.url}/patients/{pid}")
    other_page.locator("#no-access").filter(has_text="No access").wait_for()
    assert other_page.locator(".js-plotly-plot").count() == 0
    # and the link cannot be used again
    other_page.goto(url)
    other_page.locator("#invite-problem").filter(has_text="already been used").wait_for()


def test_an_admin_opens_break_glass_and_reads_the_patient(page, site, demo_patient):
    pid, name = demo_patient
    sign_in(page, site, seed.ADMIN_EMAIL)
    page.goto(f"{site.url}/patients/{pid}")
    page.locator("#no-access").wait_for()
    page.get_by_role("link", name="Break-glass").click()
    picker = page.get_by_label("Patient")
    page.wait_for_function("() => document.querySelectorAll('#bg-patient option').length > 1")
    picker.select_option(label=f"{name} (#{pid})")
    page.get_by_label("Reason (at least 10 characters)").fill("short")
    page.get_by_role("button", name="Open access").click()
    page.locator("#bg-status").filter(has_text="at least 10 characters").wait_for()
    page.get_by_label("Reason (at least 10 characters)").fill(
        "Patient called the clinic line, urgent question about readings")
    page.get_by_label("Duration").select_option(label="1 hour")
    page.get_by_role("button", name="Open access").click()
    page.locator("#bg-status").filter(has_text="open until").wait_for()
    try:
        page.locator("#sessions-table a.bg-open").filter(has_text=name).click()
        page.locator("#patient-header").filter(has_text=name).wait_for()
        page.locator("#break-glass-banner").wait_for()
        page.wait_for_function(CHARTS_DRAWN, arg=8)
        for control in ("#clin-note-add", "#clin-review-button", "#report-start"):
            assert page.locator(control).count() == 0, control
    finally:
        session = site.repo.break_glass_sessions(
            site.repo.principal_for(site.repo.user_by_email(seed.ADMIN_EMAIL)))
        for s in session:
            site.repo.end_break_glass(
                site.repo.principal_for(site.repo.user_by_email(seed.ADMIN_EMAIL)), s.id)
    page.goto(f"{site.url}/patients/{pid}")
    page.locator("#no-access").wait_for()
    events = [e.action for e in site.repo.audit_events(
        site.repo.principal_for(site.repo.user_by_email(seed.ADMIN_EMAIL)), patient_id=pid)]
    assert "break_glass.start" in events and "break_glass.end" in events


def test_an_admin_ends_break_glass_from_the_page(page, site, demo_patient):
    pid, name = demo_patient
    sign_in(page, site, seed.ADMIN_EMAIL)
    page.goto(f"{site.url}/admin/break-glass")
    page.wait_for_function("() => document.querySelectorAll('#bg-patient option').length > 1")
    page.get_by_label("Patient").select_option(label=f"{name} (#{pid})")
    page.get_by_label("Reason (at least 10 characters)").fill("Checking a reported sync fault")
    page.get_by_role("button", name="Open access").click()
    page.locator("#sessions-table").filter(has_text=name).wait_for()
    page.get_by_role("button", name=f"End access to {name}").click()
    page.locator("#bg-list").filter(has_text="No open sessions.").wait_for()
    page.goto(f"{site.url}/patients/{pid}")
    page.locator("#no-access").wait_for()


@pytest.mark.parametrize("who,path,ready", [
    (seed.PATIENT_EMAIL, "/settings/sharing", "#clinician-list *"),
    (seed.ADMIN_EMAIL, "/admin/users", "#users-table"),
    (seed.ADMIN_EMAIL, "/admin/break-glass", "#bg-list *"),
])
def test_no_serious_accessibility_violations(page, site, who, path, ready):
    sign_in(page, site, who)
    page.goto(f"{site.url}{path}")
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    found = serious_violations(page)
    assert not found, "\n".join(found)


def test_an_admin_changes_a_role_and_assigns_a_clinician(page, site, demo_patient):
    pid, name = demo_patient
    sign_in(page, site, seed.ADMIN_EMAIL)
    page.get_by_role("link", name="Users").click()
    page.locator("#users-table").filter(has_text=CAREGIVER).wait_for()
    page.wait_for_function("() => document.querySelectorAll('#team-clinician option').length")
    page.get_by_label("Clinician", exact=True).select_option(label=f"Dr. Other <{OTHER_CLINICIAN}>")
    page.get_by_label("Patient", exact=True).select_option(label=f"{name} (#{pid})")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.locator("#assignments-table tr").filter(has_text="Dr. Other").filter(
        has_text=name).wait_for()
    page.get_by_role("button", name="Remove", exact=True).click()
    page.locator("#admin-status").filter(has_text="Clinician removed.").wait_for()
    page.get_by_label("User", exact=True).select_option(
        label=f"Cleo Carer <{CAREGIVER}> · caregiver")
    page.get_by_role("button", name="Deactivate", exact=True).click()
    page.locator("#users-table tr").filter(has_text=CAREGIVER).filter(
        has_text="deactivated").wait_for()
    page.get_by_label("User", exact=True).select_option(
        label=f"Cleo Carer <{CAREGIVER}> · caregiver (deactivated)")
    page.get_by_role("button", name="Activate", exact=True).click()
    page.locator("#admin-status").filter(has_text="Account activated.").wait_for()
    expect(page.locator("#users-table tr").filter(has_text=CAREGIVER)).not_to_contain_text(
        "deactivated")
