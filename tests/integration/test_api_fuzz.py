"""Fuzzing /api/v1 from its OpenAPI document: hypothesis builds requests for every operation
(valid values, wrong types, SQL metacharacters, traversal names, control characters, huge
numbers, garbage bodies and content types) and no answer may be a 5xx or a non-JSON error.

Deterministic (derandomized, no example database) and bounded: CASES_PER_OPERATION each,
on PostgreSQL, where type and encoding mistakes surface as server errors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import _truncate
from tests.integration.conftest import World, make_world

CASES_PER_OPERATION = 80
NASTY = [
    "' OR '1'='1", "1; DROP TABLE users; --", "\" OR \"\"=\"", "1' UNION SELECT * FROM users--",
    "%", "_", "\\", "'", '"', ";", "--", "/*", "*/", "\x00", "a\x00b", "%00", "\r\n", "\t",
    "../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2f", "/etc/passwd",
    "${jndi:ldap://x}", "{{7*7}}", "<script>alert(1)</script>", "9" * 40, "-1", "0",
    "-9223372036854775809", "2147483648", "1e309", "NaN", "Infinity", "true", "null", "[]", "{}",
    "2024-13-45", "9999-12-31T23:59:59", "0001-01-01", "10000-01-01", "2024-02-30",
    "2024-06-01T25:61:00+99:00", "\u202e\u0000", "😀", "ﬀ", "a" * 3000, "", " ",
]


class NoDispatch:
    """Stands in for the job dispatcher: fuzzed imports are stored, never run."""

    def __init__(self):
        self.submitted: list[str] = []

    def submit(self, job_id: str) -> None:
        self.submitted.append(job_id)


@pytest.fixture
def pg_world(tmp_path, pg_database, pg_engine) -> Iterator[World]:
    _truncate(pg_engine)
    world = make_world(tmp_path, database_url=pg_database)
    world.app.server.extensions["healthdash.dispatcher"] = NoDispatch()
    yield world
    world.repo.engine.dispose()


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY), st.text(max_size=30))


def _value(schema: dict, good: list) -> st.SearchStrategy:
    """Values for a parameter: mostly what the schema wants (so requests get past the first
    check), otherwise nearly so or nothing like it."""
    valid: list[st.SearchStrategy] = []
    if good:
        valid.append(st.sampled_from(good))
    if "enum" in schema:
        valid.append(st.sampled_from(schema["enum"]))
    if schema.get("format") == "date":
        valid.append(st.dates().map(lambda d: d.isoformat()))
    junk: list[st.SearchStrategy] = [_text()]
    if schema.get("type") == "integer":
        junk += [st.integers(min_value=-(2**70), max_value=2**70),
                 st.integers(min_value=-3, max_value=50)]
    if not valid:
        return st.one_of(*junk)
    return st.integers(0, 9).flatmap(
        lambda roll: st.one_of(*valid) if roll < 7 else st.one_of(*junk))


def _json_body(schema: dict, good: dict) -> st.SearchStrategy[bytes]:
    """A JSON body: the schema's fields with any values, or JSON of the wrong shape."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=False), _text())
    fields = {name: st.one_of(_value(prop, [good[name]] if name in good else []), scalars,
                              st.lists(scalars, max_size=3))
              for name, prop in schema.get("properties", {}).items()}
    shaped = st.fixed_dictionaries({}, optional=fields)
    wrong = st.one_of(st.lists(scalars, max_size=3), scalars)
    return st.one_of(shaped, wrong).map(lambda body: json.dumps(body).encode())


BODIES = st.one_of(st.binary(max_size=300), st.sampled_from([
    b"", b"{", b"{\"patient_id\": ", b"[1,2", b"\xff\xfe\x00", b"PK\x03\x04garbage",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    b"null", b"\"string\"", b"12345678901234567890123",
]))
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/zip", "application/xml",
    "application/octet-stream", "application/json; charset=utf-16", "image/png", "../../x",
])


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items()
            for method, op in item.items()]


def _request(path: str, op: dict, good: dict) -> st.SearchStrategy[dict]:
    """One request of an operation: path, query, headers, body."""
    parts: dict[str, st.SearchStrategy] = {}
    for param in op.get("parameters", []):
        value = _value(param["schema"], good.get(param["name"], []))
        key = f"{param['in']}:{param['name']}"
        parts[key] = value if param.get("required") else st.one_of(st.none(), value)
    body = op.get("requestBody")
    if body and "application/json" in body["content"]:
        schema = body["content"]["application/json"]["schema"]
        parts["body"] = st.one_of(_json_body(schema, {"patient_id": good["patient_id"][0],
                                                      "size": 10}), BODIES)
    elif body:
        parts["body"] = BODIES
    if body:
        parts["content_type"] = CONTENT_TYPES
    return st.fixed_dictionaries(parts)


def _send(client, method: str, template: str, case: dict, headers: dict):
    url, query, sent = template, {}, dict(headers)
    for key, value in case.items():
        where, _, name = key.partition(":")
        if value is None or where not in ("path", "query", "header"):
            continue
        text = str(value)
        if where == "path":
            url = url.replace("{" + name + "}", quote(text, safe="") or "%20")
        elif where == "query":
            query[name] = text
        else:
            sent[name] = "".join(c for c in text if 32 <= ord(c) < 127)  # header-safe
    return client.open(url, method=method, query_string=query, headers=sent,
                       data=case.get("body"), content_type=case.get("content_type"))


def test_no_operation_answers_5xx(pg_world: World, request, capsys):
    server = pg_world.app.server
    ada = pg_world.repo.user_by_email("ada@example.org")
    key = pg_world.repo.create_api_key(ada.id, ["read", "ingest"])
    client = server.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    upload = client.post("/api/v1/uploads", headers=headers, json={
        "patient_id": pg_world.patient_a, "filename": "export.zip", "size": 10}).get_json()
    job = pg_world.repo.create_job(pg_world.repo.principal_for(ada), pg_world.patient_a,
                                   "apple_health", "export.zip", "/nonexistent", 10)
    good = {"patient_id": [pg_world.patient_a, pg_world.patient_b],
            "metric": ["heart_rate", "body_mass", "steps"],
            "start": ["2024-01-01", "2024-01-01T08:00"], "end": ["2030-01-01"],
            "job_id": [job.id], "upload_id": [upload["id"]],
            "Content-Range": ["bytes 0-9/10", "bytes 0-4/10", "bytes 5-9/10"]}
    seen: dict[str, int] = {}
    failures: list[str] = []
    started = time.perf_counter()
    def fuzz(method: str, path: str, op: dict):
        @settings(max_examples=CASES_PER_OPERATION, derandomize=True, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=_request(path, op, good))
        def run(case):
            response = _send(client, method, path, case, headers)
            status = response.status_code
            seen[f"{status // 100}xx"] = seen.get(f"{status // 100}xx", 0) + 1
            seen[str(status)] = seen.get(str(status), 0) + 1
            seen["cases"] = seen.get("cases", 0) + 1
            if status >= 500:
                failures.append(f"{method} {path} {case!r} -> {status}")
            elif status >= 400 and not (response.is_json and "error" in response.get_json()):
                failures.append(f"{method} {path} {case!r} -> {status} not a JSON error")

        run()

    for method, path, op in _operations(document):
        fuzz(method, path, op)
    elapsed = time.perf_counter() - started
    line = (f"API fuzz: {seen.get('cases', 0)} cases over {len(_operations(document))} "
            f"operations in {elapsed:.1f} s; "
            + ", ".join(f"{k} {v}" for k, v in sorted(seen.items()) if k != "cases"))
    with capsys.disabled():
        print(f"\n{line}")
    request.node.user_properties.append(("fuzz", line))
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:15])
    assert seen["cases"] >= 500  # the budget was spent, not skipped
    assert elapsed < 60


def test_every_api_route_is_documented(world):
    document = world.app.server.test_client()
    from tests.integration.conftest import login

    login(document, "ada@example.org")
    paths = document.get("/api/v1/openapi.json").get_json()["paths"]
    documented = {(m.upper(), p) for p, item in paths.items() for m in item}
    routes = set()
    for rule in world.app.server.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", "{" + name + "}").replace(
                    f"<{name}>", "{" + name + "}")
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
