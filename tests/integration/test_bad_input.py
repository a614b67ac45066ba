"""Bad input to /api/v1 gets a 4xx with a plain JSON message, never a 500, and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from data import schema as s
from tests.conftest import _truncate
from tests.integration.conftest import World, make_world

SQL = ["' OR '1'='1", "1; DROP TABLE users; --", "1' UNION SELECT password_hash FROM users--",
       "\x00", "%' AND 1=1 --"]
TABLES = (s.users, s.observations, s.import_jobs, s.uploads, s.api_keys, s.patients)


class NoDispatch:
    def submit(self, job_id: str) -> None:
        pass


@pytest.fixture(params=["sqlite", "postgres"])
def bad_world(request, tmp_path) -> Iterator[World]:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database")
        _truncate(request.getfixturevalue("pg_engine"))
    world = make_world(tmp_path, database_url=url)
    world.app.server.extensions["healthdash.dispatcher"] = NoDispatch()
    yield world
    world.repo.engine.dispose()


def _counts(world: World) -> dict[str, int]:
    with world.repo.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES}


def _client(world: World, scopes=("read", "ingest")):
    ada = world.repo.user_by_email("ada@example.org")
    key = world.repo.create_api_key(ada.id, list(scopes))
    client = world.app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def _plain_4xx(response, status: int | tuple[int, ...] | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    if status is not None:
        assert response.status_code in ((status,) if isinstance(status, int) else status)
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), response.data[:300]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()
    return body


def _imports(world: World) -> list[Path]:
    folder = Path(world.app.server.extensions["healthdash.settings"].data_dir) / "imports"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_malformed_and_wrong_shaped_json(bad_world):
    client = _client(bad_world)
    before = _counts(bad_world)
    for body in (b"{", b"{\"patient_id\": 1,", b"[1, 2]", b"\"text\"", b"null", b"\xff\xfe"):
        _plain_4xx(client.post("/api/v1/uploads", data=body, content_type="application/json"),
                   400)
    for body in ({"patient_id": bad_world.patient_a, "size": "ten"},
                 {"patient_id": bad_world.patient_a, "size": 10**30},
                 {"patient_id": 10**30, "size": 10}, {"patient_id": True, "size": 10},
                 {"patient_id": 1.5, "size": 10}, {"patient_id": [1], "size": 10},
                 {"patient_id": bad_world.patient_a, "size": -5},
                 {"patient_id": bad_world.patient_a, "size": 10, "filename": {"a": 1}}):
        response = client.post("/api/v1/uploads", json=body)
        if body.get("filename") == {"a": 1}:
            assert response.status_code == 201  # a non-text name is ignored, not trusted
            continue
        _plain_4xx(response, 400)
    after = _counts(bad_world)
    assert after["uploads"] == before["uploads"] + 1 and {
        k: v for k, v in after.items() if k != "uploads"} == {
        k: v for k, v in before.items() if k != "uploads"}


def test_oversized_bodies(bad_world):
    client = _client(bad_world)
    settings = bad_world.app.server.extensions["healthdash.settings"]
    bad_world.app.server.extensions["healthdash.settings"] = settings.model_copy(
        update={"max_import_bytes": 1000})
    before = _counts(bad_world)
    url = f"/api/v1/imports/apple-health?patient_id={bad_world.patient_a}"
    _plain_4xx(client.post(url, data=b"x" * 5000, content_type="application/zip"), 413)
    _plain_4xx(client.post("/api/v1/uploads", data=b"{" + b" " * (17 * 2**20) + b"}",
                           content_type="application/json"), 413)
    _plain_4xx(client.post("/api/v1/uploads", json={
        "patient_id": bad_world.patient_a, "size": 5000}), 400)
    assert _counts(bad_world) == before
    assert not [p for p in _imports(bad_world) if p.suffix == ".upload"]


def test_wrong_content_types(bad_world):
    client = _client(bad_world)
    before = _counts(bad_world)
    url = f"/api/v1/imports/apple-health?patient_id={bad_world.patient_a}"
    for content_type in ("text/plain", "application/json", "multipart/form-data; boundary=x",
                         "image/png", None):
        body = _plain_4xx(client.post(url, data=b"PK\x03\x04", content_type=content_type), 400)
        assert "Content-Type" in body["detail"]
    _plain_4xx(client.post("/api/v1/uploads", data="patient_id=1&size=3",
                           content_type="application/x-www-form-urlencoded"), 400)
    assert _counts(bad_world) == before


def test_path_traversal_in_file_names(bad_world):
    client = _client(bad_world)
    folder = None
    for name in ("../../etc/passwd", "..\\..\\windows\\evil.zip", "/abs/olute.zip", "..",
                 "a\x00b.zip", "\u202eexport.zip"):
        url = "/api/v1/imports/apple-health"
        response = client.post(url, query_string={"patient_id": bad_world.patient_a,
                                                  "filename": name},
                               data=b"<HealthData/>", content_type="application/xml")
        assert response.status_code == 202, response.data
        job = bad_world.repo.job(bad_world.repo.principal_for(
            bad_world.repo.user_by_email("ada@example.org")), response.get_json()["job_id"])
        assert "/" not in job.filename and "\\" not in job.filename and job.filename not in (
            "..", ".") and job.filename.isprintable()
        folder = folder or Path(job.path).parent
        assert Path(job.path).parent == folder and folder.name == "imports"
    started = client.post("/api/v1/uploads", json={
        "patient_id": bad_world.patient_a, "filename": "../../../../tmp/owned", "size": 4})
    assert started.status_code == 201
    upload = bad_world.repo.upload(bad_world.repo.principal_for(
        bad_world.repo.user_by_email("ada@example.org")), started.get_json()["id"])
    assert upload.filename == "owned" and Path(upload.path).parent == folder


def test_sql_metacharacters_in_every_parameter(bad_world):
    client = _client(bad_world)
    a = bad_world.patient_a
    before = _counts(bad_world)
    for value in SQL:
        part = quote(value, safe="")
        requests = [
            ("GET", f"/api/v1/patients/{a}/series", {"metric": value}),
            ("GET", f"/api/v1/patients/{a}/series", {"metric": "body_mass", "start": value}),
            ("GET", f"/api/v1/patients/{a}/series", {"metric": "body_mass", "end": value}),
            ("GET", f"/api/v1/patients/{a}/series", {"metric": "body_mass",
                                                     "resolution": value}),
            ("GET", f"/api/v1/patients/{a}/clinical", {"start": value, "end": value}),
            ("GET", f"/api/v1/patients/{part}/series", {"metric": "body_mass"}),
            ("GET", f"/api/v1/jobs/{part}", {}),
            ("POST", f"/api/v1/jobs/{part}/cancel", {}),
            ("PUT", f"/api/v1/uploads/{part}", {}),
            ("POST", f"/api/v1/uploads/{part}/import", {}),
            ("POST", "/api/v1/imports/apple-health", {"patient_id": value}),
        ]
        for method, url, query in requests:
            response = client.open(url, method=method, query_string=query,
                                   headers={"Content-Range": f"bytes {value}"})
            _plain_4xx(response)
        _plain_4xx(client.post("/api/v1/uploads", json={"patient_id": value, "size": 3}), 400)
        # the format parameter only chooses between json and csv: anything else is json
        ok = client.get(f"/api/v1/patients/{a}/series",
                        query_string={"metric": "body_mass", "format": value})
        assert ok.status_code == 200 and ok.is_json
    assert _counts(bad_world) == before


def test_huge_ids_unknown_routes_and_methods(bad_world):
    client = _client(bad_world)
    _plain_4xx(client.get(f"/api/v1/patients/{2**31}/series?metric=body_mass"), 404)
    _plain_4xx(client.get(f"/api/v1/patients/{10**30}/clinical"), 404)
    _plain_4xx(client.get("/api/v1/patients/0/clinical"), 404)
    _plain_4xx(client.get("/api/v1/jobs/" + "f" * 33), 404)
    _plain_4xx(client.get("/api/v1/nothing-here"), 404)
    _plain_4xx(client.delete(f"/api/v1/patients/{bad_world.patient_a}/series"), 405)
    _plain_4xx(client.get(f"/api/v1/patients/{bad_world.patient_b}/series?metric=body_mass"),
               403)


@pytest.mark.parametrize("token", ["hd_\x00_x", "hd_' OR 1=1 --_x", "' OR '1'='1", "hd__",
                                   "hd_" + "a" * 5000, "hd_abcdef12_" + "\x00" * 30])
def test_malformed_api_keys(bad_world, token):
    client = bad_world.app.server.test_client()
    response = client.get(f"/api/v1/patients/{bad_world.patient_a}/series?metric=body_mass",
                          headers={"Authorization": f"Bearer {token}"})
    _plain_4xx(response, 401)


def test_an_unexpected_error_is_a_plain_json_500(bad_world, monkeypatch):
    client = _client(bad_world)

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(type(bad_world.repo), "series", broken)
    response = client.get(f"/api/v1/patients/{bad_world.patient_a}/series?metric=body_mass")
    assert response.status_code == 500 and response.is_json
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text
    assert response.get_json()["error"] == "internal error"
