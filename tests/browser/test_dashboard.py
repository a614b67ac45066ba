"""In Chromium: each role signs in and sees charts draw; zoom fetches finer data; no peeking."""

from __future__ import annotations

import pytest

from data import seed
from tests.browser.conftest import OTHER_CLINICIAN, OTHER_PASSWORD, sign_in

pytestmark = pytest.mark.browser

# plotly's calcdata holds the points it actually computed for drawing, per trace
COUNT_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => (p.calcdata || []).some(points => points.length > 1)).length"""
DRAWN = "(min) => (" + COUNT_DRAWN + ")() >= min"
HR_POINTS = """() => {
  const g = document.querySelector('#explorer-graph .js-plotly-plot');
  const i = g.data.findIndex(t => t.name === 'Heart rate');
  return g.calcdata[i].length;
}"""
RESOLUTION = """() => {
  const g = document.querySelector('#explorer-graph .js-plotly-plot');
  return g && g.layout && g.layout.annotations ? g.layout.annotations[0].text : null;
}"""


def test_patient_sees_kpis_and_the_clinical_charts_with_data(page, site):
    sign_in(page, site, seed.PATIENT_EMAIL)
    assert page.url == f"{site.url}/"
    # blood pressure, BP categories, weight, heart rate, resting HR, HRV, sleep, hypnogram,
    # steps, SpO2 (the demo patient has no glucose: that panel stays hidden)
    page.wait_for_function(DRAWN, arg=10)
    page.wait_for_function("""() => {
      const g = document.querySelector('#clin-graph-heatmap .js-plotly-plot');
      return g && g.data && g.data.some(t => t.type === 'heatmap');
    }""")
    assert page.locator("#clin-glucose-section").is_hidden()
    assert page.locator("#clin-review-button").count() == 0, "patients do not mark reviews"
    cards = page.locator(".kpi-card")
    assert cards.count() == 8
    assert "bpm" in cards.first.inner_text()
    assert page.locator("#nav-user").inner_text().endswith("patient")


def test_zooming_fetches_finer_data_for_the_dragged_range(page, site):
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.goto(f"{site.url}/metrics/heart_rate")
    page.wait_for_function(DRAWN, arg=1)
    page.wait_for_function(RESOLUTION)
    assert "hourly" in page.evaluate(RESOLUTION)
    before = page.evaluate(HR_POINTS)
    box = page.locator("#explorer-graph .nsewdrag").bounding_box()
    y = box["y"] + box["height"] / 2
    # drag across about one day of the 30-day chart
    page.mouse.move(box["x"] + box["width"] * 0.50, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.52, y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => { const t = (" + RESOLUTION + ")(); return t && t.includes('raw'); }")
    after = page.evaluate(HR_POINTS)
    assert after > 100, "the zoomed range carries minute-level points"
    assert page.locator("#explorer-status").inner_text().endswith("rows.")
    assert before != after


def test_clinician_opens_a_patient_from_the_list(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    assert page.url == f"{site.url}/patients"
    links = page.locator("a.patient-link")
    links.first.wait_for()
    assert links.count() == 2
    name = links.first.inner_text()
    links.first.click()
    page.wait_for_function(DRAWN, arg=8)
    assert name in page.locator("#patient-header").inner_text()


def test_clinician_cannot_open_another_clinicians_patient(page, site):
    sign_in(page, site, OTHER_CLINICIAN, OTHER_PASSWORD)
    for path in ("/patients/1", "/metrics/heart_rate?patient=1"):
        page.goto(f"{site.url}{path}")
        page.locator("#no-access").wait_for()
        assert page.evaluate(COUNT_DRAWN) == 0
    page.goto(f"{site.url}/patients/{site.other_patient}")
    page.wait_for_function(DRAWN, arg=1)
    assert "Zed Elsewhere" in page.locator("#patient-header").inner_text()


def test_admin_signs_in_and_sees_no_patient_data(page, site):
    sign_in(page, site, seed.ADMIN_EMAIL)
    assert page.url == f"{site.url}/patients"
    page.get_by_text("No patients on your care team.").wait_for()
    page.goto(f"{site.url}/patients/1")
    page.locator("#no-access").wait_for()


def test_signed_out_visitors_are_sent_to_sign_in(page, site):
    page.goto(f"{site.url}/metrics/steps")
    assert page.url.startswith(f"{site.url}/login?next=/metrics/steps")
    page.fill("#email", seed.PATIENT_EMAIL)
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "Unknown e-mail or wrong password."
