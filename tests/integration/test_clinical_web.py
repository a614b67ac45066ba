"""Over HTTP: the page, the API and the PDF report print the same numbers; reports are guarded."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import pytest

from callbacks.report import generate_report
from data.panels import panel_window
from tests.integration.conftest import login, logout, panel_callback


@pytest.fixture
def client(world):
    return world.app.server.test_client()


def _dates(world) -> tuple[str, str]:
    first = datetime.fromtimestamp(world.day, UTC).date().isoformat()
    last = datetime.now(UTC).date().isoformat()
    return first, last


def _page_stats(client, world, panel: str, first: str, last: str) -> dict[str, str]:
    payload = panel_callback(world.patient_a, panel, "custom")
    payload["inputs"][1]["value"], payload["inputs"][2]["value"] = first, last
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    found: dict[str, str] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if "data-stat" in props:
                found[props["data-stat"]] = props["children"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json()["response"][f"clin-stats-{panel}"])
    return found


def test_page_api_and_report_show_the_same_numbers(client, world):
    login(client, "doc.a@example.org")
    first, last = _dates(world)
    api = client.get(f"/api/v1/patients/{world.patient_a}/clinical?start={first}&end={last}")
    assert api.status_code == 200
    body = api.get_json()
    weight = {s["key"]: s for s in body["panels"]["weight"]}
    # ten daily weighings 71.0, 71.1 … 71.9 kg (patient id 1: 70 + 1 + d/10)
    assert weight["weight_change"]["value"] > 0.5
    assert weight["weight_latest"]["text"].endswith(" kg")
    page = _page_stats(client, world, "weight", first, last)
    assert page == {key: stat["text"] for key, stat in weight.items()}

    principal = world.repo.principal_for(world.repo.user_by_email("doc.a@example.org"))
    window = panel_window(world.patient_a, "Europe/Paris", "custom", first, last)
    report_id, pages = generate_report(world.repo, principal, window)
    assert pages in (1, 2)
    response = client.get(f"/reports/{report_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(pdf.pages) == pages
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "Ada Lovelace-Example" in text
    assert body["range"] in text
    for stat in weight.values():
        assert stat["text"] in text, f"{stat['label']} reads the same in the report"


def test_reports_are_only_served_to_people_who_may_see_the_patient(client, world):
    principal = world.repo.principal_for(world.repo.user_by_email("doc.a@example.org"))
    window = panel_window(world.patient_a, "Europe/Paris", "30d", None, None)
    report_id, _ = generate_report(world.repo, principal, window)
    assert client.get(f"/reports/{report_id}.pdf").status_code in (302, 401)
    for who in ("doc.b@example.org", "ben@example.org", "admin@example.org"):
        login(client, who)
        response = client.get(f"/reports/{report_id}.pdf")
        assert response.status_code == 403, who
        assert b"%PDF" not in response.data
        logout(client)
    login(client, "ada@example.org")
    assert client.get(f"/reports/{report_id}.pdf").status_code == 200, "the patient may"
    assert client.get("/reports/00000000000000000000000000000000.pdf").status_code == 404
    traversal = client.get("/reports/..%2f..%2fetc%2fpasswd.pdf")
    assert traversal.mimetype != "application/pdf" and b"root:" not in traversal.data


def test_clinical_api_refuses_bad_ranges_and_other_patients(client, world):
    login(client, "doc.a@example.org")
    base = f"/api/v1/patients/{world.patient_a}/clinical"
    for query, message in (("?start=2026-13-01&end=2026-12-01", "month"),
                           ("?start=2026-01-01", "both start and end")):
        response = client.get(base + query)
        assert response.status_code == 400
        assert message in response.get_json()["detail"]
    assert client.get(f"/api/v1/patients/{world.patient_b}/clinical").status_code == 403
