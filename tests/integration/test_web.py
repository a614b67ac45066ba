"""The web app over HTTP (Flask test client): sign-in, the guard, forged callbacks, the API."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.integration.conftest import (
    PASSWORD,
    header_callback,
    login,
    logout,
    panel_callback,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def client(world):
    return world.app.server.test_client()


def test_pages_redirect_to_sign_in_and_scripts_get_401(client):
    page = client.get("/metrics/steps")
    assert page.status_code == 302 and page.location.startswith("/login?next=/metrics/steps")
    for path in ("/_dash-update-component", "/_dash-layout", "/api/v1/patients/1/series"):
        response = client.post(path, json={}) if "update" in path else client.get(path)
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "authentication required"}
    assert client.get("/healthz").get_json() == {"status": "ok"}
    with client.get("/assets/style.css") as css:
        assert css.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = login(client, "ada@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Unknown e-mail or wrong password." in wrong.data
    assert wrong.data.replace(b"ada@example.org", b"") == unknown.data.replace(
        b"nobody@example.org", b"")


@pytest.mark.parametrize("target, expected", [
    ("/metrics/steps", "/metrics/steps"),
    ("//evil.example/steal", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_sign_in_only_redirects_within_the_site(client, target, expected):
    response = login(client, "ada@example.org", next_url=target)
    assert response.status_code == 302
    assert response.location == expected


def test_a_clinician_sees_their_patient_through_the_callbacks(client, world):
    login(client, "doc.a@example.org")
    header = client.post("/_dash-update-component", json=header_callback(world.patient_a))
    assert header.status_code == 200
    assert "Ada Lovelace-Example" in header.get_data(as_text=True)
    trend = client.post("/_dash-update-component", json=panel_callback(world.patient_a))
    assert trend.status_code == 200
    figure = trend.get_json()["response"]["clin-graph-weight"]["figure"]
    assert figure["data"], "the chart carries traces"


@pytest.mark.parametrize("who", ["doc.b@example.org", "ben@example.org", "admin@example.org"])
def test_forged_callbacks_for_another_patient_get_403_and_no_data(client, world, who):
    login(client, who)
    for payload in (header_callback(world.patient_a), panel_callback(world.patient_a),
                    panel_callback(world.patient_a, "steps")):
        response = client.post("/_dash-update-component", json=payload)
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert "Ada Lovelace" not in text and "70." not in text


def test_unauthenticated_forged_callback_gets_401(client, world):
    response = client.post("/_dash-update-component", json=header_callback(world.patient_a))
    assert response.status_code == 401


def test_sign_out_ends_the_session(client, world):
    login(client, "ada@example.org")
    assert client.post("/_dash-update-component",
                       json=header_callback(world.patient_a)).status_code == 200
    logout(client)
    assert client.post("/_dash-update-component",
                       json=header_callback(world.patient_a)).status_code == 401


def test_api_series_gives_points_with_local_and_utc_time(client, world):
    login(client, "ada@example.org")
    url = f"/api/v1/patients/{world.patient_a}/series"
    body = client.get(url, query_string={"metric": "body_mass", "resolution": "day"}).get_json()
    assert body["unit"] == "kg" and body["resolution"] == "day"
    first = body["points"][0]
    midnight_paris = datetime.fromtimestamp(world.day + 25200, PARIS).replace(hour=0)
    assert first["time_local"] == midnight_paris.isoformat()
    assert first["time_utc"] == midnight_paris.astimezone(UTC).isoformat().replace(
        "+00:00", "Z")
    assert [p["value"] for p in body["points"]] == [
        pytest.approx(70.0 + world.patient_a + d / 10) for d in range(10)]
    start = datetime.fromtimestamp(world.day + 4 * 86400, UTC).date().isoformat()
    csv = client.get(url, query_string={"metric": "body_mass", "resolution": "raw",
                                        "format": "csv", "start": start})
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "time_local,time_utc,utc_offset,value,unit,source"
    assert len(lines) == 1 + 6 and lines[1].endswith(",kg,Scale")


@pytest.mark.parametrize("query, message", [
    ({"metric": "weight"}, "unknown metric"),
    ({"metric": "body_mass", "start": "yesterday"}, "not a date"),
    ({"metric": "body_mass", "resolution": "minute"}, "resolution"),
])
def test_api_rejects_bad_parameters_with_a_plain_400(client, world, query, message):
    login(client, "ada@example.org")
    response = client.get(f"/api/v1/patients/{world.patient_a}/series", query_string=query)
    assert response.status_code == 400
    assert message in response.get_json()["detail"]


def test_api_refuses_other_patients(client, world):
    login(client, "doc.b@example.org", PASSWORD)
    response = client.get(f"/api/v1/patients/{world.patient_a}/series?metric=body_mass")
    assert response.status_code == 403


def test_the_app_serves_uncached_when_redis_is_down(tmp_path):
    from tests.integration.conftest import make_world

    world = make_world(tmp_path, redis_url="redis://127.0.0.1:1/0")
    client = world.app.server.test_client()
    login(client, "ada@example.org")
    for _ in range(2):
        response = client.post("/_dash-update-component", json=panel_callback(world.patient_a))
        assert response.status_code == 200
