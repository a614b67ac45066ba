"""In Chromium: the triage list, a patient's clinical page, notes, review, the PDF report,
keyboard use and axe-core's accessibility checks."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe

from data import seed
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

ROWS = "table.triage-table tbody tr"
OPTIONS_LOADED = "() => document.querySelectorAll('select.form-select option').length > 1"
CHARTS_DRAWN = """(min) => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => (p.calcdata || []).some(points => points.length > 1)).length >= min"""


def _names(page) -> list[str]:
    return page.locator(f"{ROWS} a.patient-link").all_inner_texts()


def _open_first_patient(page, site) -> str:
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    link = page.locator("a.patient-link").first
    link.wait_for()
    name = link.inner_text()
    link.click()
    page.wait_for_function(CHARTS_DRAWN, arg=8)
    return name


def test_triage_list_sorts_filters_searches_and_opens_a_patient(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator(ROWS).first.wait_for()
    everyone = _names(page)
    assert len(everyone) == 2
    # every row carries the triage columns, with units
    first_row = page.locator(ROWS).first.inner_text()
    assert "mmHg" in first_row and "bpm" in first_row
    page.select_option("#triage-sort", "name")
    page.wait_for_function(
        "(names) => [...document.querySelectorAll('a.patient-link')].map(a => a.innerText)"
        ".join('|') === names", arg="|".join(sorted(everyone, key=str.lower)))
    # the hypertensive demo patient is flagged: the filter keeps flagged rows only
    page.get_by_label("Flagged").check()
    page.locator("#triage-count").filter(has_text="of 2 patients shown").wait_for()
    flagged = _names(page)
    assert 1 <= len(flagged) <= 2
    assert page.locator(f"{ROWS} .severity").count() >= 1
    page.get_by_label("Flagged").uncheck()
    page.fill("#patient-search", everyone[1].split()[0])
    page.keyboard.press("Enter")
    page.locator("#triage-count").filter(has_text="1 of 2 patients shown").wait_for()
    assert _names(page) == [everyone[1]]
    page.locator("a.patient-link").click()
    page.locator("#patient-header").filter(has_text=everyone[1]).wait_for()


def test_the_list_and_a_patient_can_be_used_by_keyboard(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator(ROWS).first.wait_for()
    target = page.locator("a.patient-link").first.inner_text()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('patient-link')"):
            break
    else:
        pytest.fail("Tab never reached a patient link")
    page.keyboard.press("Enter")
    page.locator("#patient-header").filter(has_text=target).wait_for()
    # the range buttons are reachable and switch every panel
    page.locator("#clin-range input[value='30d']").focus()
    page.keyboard.press("Space")
    page.locator("#clin-range-text").filter(has_text="times in").wait_for()


def test_a_note_shows_as_a_marker_and_mark_reviewed_updates_the_list(page, site):
    name = _open_first_patient(page, site)
    zone = page.locator("#clin-range-text").inner_text().rsplit("times in ", 1)[1].strip()
    today = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT08:00")
    page.fill("#clin-note-when", today)
    page.fill("#clin-note-text", "Started amlodipine 5 mg")
    page.click("#clin-note-add")
    page.locator("#clin-note-status").filter(has_text="Note added").wait_for()
    page.locator("#clin-note-list").filter(has_text="Started amlodipine 5 mg").wait_for()
    for graph in ("weight", "bp", "steps"):
        page.wait_for_function("""(id) => {
          const g = document.querySelector('#' + id + ' .js-plotly-plot');
          return g && (g.layout.annotations || []).some(a => (a.text || '').includes('amlodipine'))
            && (g.layout.shapes || []).some(s => s.line && s.line.dash === 'dash');
        }""", arg=f"clin-graph-{graph}")
    page.click("#clin-review-button")
    page.locator("#clin-review-text").filter(has_text="Last reviewed by Dr. Demo Clinician"
                                             ).wait_for()
    page.goto(f"{site.url}/patients")
    row = page.locator(ROWS).filter(has_text=name)
    row.filter(has_text="Dr. Demo Clinician").wait_for()


def test_the_pdf_report_downloads_with_the_pages_numbers(page, site):
    name = _open_first_patient(page, site)
    mean_bp = page.locator("[data-stat=bp_mean]")
    mean_bp.wait_for()
    page.click("#report-start")
    link = page.locator("#report-link")
    link.wait_for(timeout=90_000)
    assert "PDF" in link.inner_text()
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as saved:
        pdf = pypdf.PdfReader(io.BytesIO(saved.read()))
    assert 1 <= len(pdf.pages) <= 2
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert name in text
    assert mean_bp.inner_text() in text, "the report prints the page's mean blood pressure"
    assert page.locator("#clin-range-text").inner_text().split(" · ")[0] in text


def test_the_diabetic_patient_has_an_ambulatory_glucose_profile(page, site):
    sign_in(page, site, seed.CLINICIAN_EMAIL)
    page.locator(ROWS).first.wait_for()
    row = page.locator(ROWS).filter(has_text="%").filter(has_text="below 70")
    row.locator("a.patient-link").click()
    page.wait_for_function("""() => {
      const g = document.querySelector('#clin-graph-agp .js-plotly-plot');
      return g && g.calcdata && g.calcdata.some(c => c.length > 20);
    }""")
    assert page.locator("#clin-glucose-section").is_visible()
    assert page.locator("[data-stat=gmi]").inner_text().endswith("%")
    tir = page.locator("#clin-graph-tir").inner_text()
    assert "%" in tir


@pytest.mark.parametrize("who,path", [
    (seed.CLINICIAN_EMAIL, "/patients"),
    (seed.CLINICIAN_EMAIL, "patient"),
    (seed.PATIENT_EMAIL, "/"),
    (seed.PATIENT_EMAIL, "/metrics/heart_rate"),
    (seed.PATIENT_EMAIL, "/sources"),
])
def test_no_serious_accessibility_violations(page, site, who, path):
    sign_in(page, site, who)
    if path == "patient":
        page.locator("a.patient-link").first.click()
    elif path != "/":
        page.goto(f"{site.url}{path}")
    if path == "/patients":
        page.locator(ROWS).first.wait_for()
    elif path == "/sources":
        page.locator("#upload-start").wait_for()
        page.wait_for_load_state("networkidle")
    else:
        page.wait_for_function(CHARTS_DRAWN, arg=1 if path.startswith("/metrics") else 8)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:5]) for v in serious)


def test_a_patient_chooses_which_device_counts_first(page, site):
    sign_in(page, site, seed.PATIENT_EMAIL)
    page.goto(f"{site.url}/sources")
    steps = page.get_by_label("Steps: counts first")
    page.wait_for_function(OPTIONS_LOADED)
    assert steps.locator("option:checked").inner_text() == "Apple Watch"
    steps.select_option(label="iPhone")
    page.click("#priority-save")
    page.locator("#priority-status").filter(has_text="Saved; recomputed steps").wait_for()
    page.reload()
    page.wait_for_function(OPTIONS_LOADED)
    page.wait_for_function(
        "() => [...document.querySelectorAll('select.form-select')].some("
        "s => s.selectedOptions.length && s.selectedOptions[0].text === 'iPhone')")
    assert page.get_by_label("Steps: counts first").locator("option:checked").inner_text() == \
        "iPhone"
