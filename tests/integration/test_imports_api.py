"""Imports over HTTP: API keys, one-shot upload, chunked upload, job state, idempotency."""

from __future__ import annotations

import time

import pytest

from bench.applehealth_gen import generate_export
from tests.integration.conftest import login


@pytest.fixture(scope="module")
def export_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "export.zip"
    return path, generate_export(path, records=3000, seed=5)


def wait(client, url: str, headers=None, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).get_json()
        if body["state"] not in ("queued", "running"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"job did not finish: {body}")


def test_a_script_imports_with_an_ingest_key_and_a_second_import_adds_nothing(world,
                                                                              export_zip):
    path, truth = export_zip
    client = world.app.server.test_client()
    user = world.repo.user_by_email("ada@example.org")
    key = world.repo.create_api_key(user.id, ["ingest", "read"])
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/zip"}
    url = f"/api/v1/imports/apple-health?patient_id={world.patient_a}&filename=export.zip"
    first = client.post(url, data=path.read_bytes(), headers=headers)
    assert first.status_code == 202, first.get_data(as_text=True)
    job = wait(client, first.get_json()["url"], headers)
    assert job["state"] == "done" and job["percent"] == 100.0
    assert job["records_done"] == truth.total_records
    steps = job["report"]["types"]["HKQuantityTypeIdentifierStepCount"]
    assert steps["imported"] == truth.records_by_type["HKQuantityTypeIdentifierStepCount"]
    again = wait(client, client.post(url, data=path.read_bytes(), headers=headers)
                 .get_json()["url"], headers)
    assert (again["state"], again["rows_inserted"]) == ("done", 0)
    assert again["rows_duplicate"] == job["rows_inserted"] + job["rows_duplicate"]


def test_keys_and_scopes_are_enforced(world, export_zip):
    path, _truth = export_zip
    client = world.app.server.test_client()
    ada = world.repo.user_by_email("ada@example.org")
    read_only = world.repo.create_api_key(ada.id, ["read"])
    url = f"/api/v1/imports/apple-health?patient_id={world.patient_a}"
    body = path.read_bytes()
    denied = client.post(url, data=body, headers={"Authorization": f"Bearer {read_only}",
                                                  "Content-Type": "application/zip"})
    assert denied.status_code == 403 and "ingest" in denied.get_json()["detail"]
    forged = client.post(url, data=body, headers={"Authorization": "Bearer hd_0000_nope",
                                                  "Content-Type": "application/zip"})
    assert forged.status_code == 401
    ben = world.repo.user_by_email("ben@example.org")
    bens = world.repo.create_api_key(ben.id, ["ingest"])
    other = client.post(url, data=body, headers={"Authorization": f"Bearer {bens}",
                                                 "Content-Type": "application/zip"})
    assert other.status_code == 403


@pytest.mark.parametrize("headers, body, message", [
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--", "raw body"),
    ({"Content-Type": "application/zip"}, b"", "empty"),
])
def test_bad_import_requests_get_a_plain_400(world, headers, body, message):
    client = world.app.server.test_client()
    login(client, "ada@example.org")
    response = client.post(f"/api/v1/imports/apple-health?patient_id={world.patient_a}",
                           data=body, headers=headers)
    assert response.status_code == 400 and message in response.get_json()["detail"]


def test_a_file_that_is_not_an_export_fails_with_a_clear_message(world):
    client = world.app.server.test_client()
    login(client, "ada@example.org")
    response = client.post(f"/api/v1/imports/apple-health?patient_id={world.patient_a}",
                           data=b"\x89PNG\r\n\x1a\nnot an export",
                           headers={"Content-Type": "application/octet-stream"})
    job = wait(client, response.get_json()["url"])
    assert job["state"] == "failed" and "not an Apple Health export" in job["message"]
    assert job["rows_inserted"] == 0


def test_chunked_upload_in_order_then_import(world, export_zip):
    path, truth = export_zip
    data = path.read_bytes()
    client = world.app.server.test_client()
    login(client, "ada@example.org")
    start = client.post("/api/v1/uploads", json={"patient_id": world.patient_a,
                                                 "filename": "../../etc/export.zip",
                                                 "size": len(data)})
    assert start.status_code == 201
    upload = start.get_json()["id"]
    half = len(data) // 2
    early = client.post(f"/api/v1/uploads/{upload}/import")
    assert early.status_code == 400 and "only 0 of" in early.get_json()["detail"]
    gap = client.put(f"/api/v1/uploads/{upload}", data=data[half:], headers={
        "Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"})
    assert gap.status_code == 400
    for lo, hi in ((0, half), (0, half), (half, len(data))):  # a resent chunk is harmless
        ok = client.put(f"/api/v1/uploads/{upload}", data=data[lo:hi], headers={
            "Content-Range": f"bytes {lo}-{hi - 1}/{len(data)}"})
        assert ok.status_code == 200
    job = wait(client, client.post(f"/api/v1/uploads/{upload}/import").get_json()["url"])
    assert job["state"] == "done" and job["filename"] == "export.zip"
    assert job["records_done"] == truth.total_records
