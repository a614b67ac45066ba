"""Sign-in hardening and browser-side protection over HTTP (Flask test client, real databases).

Lockout and its reset, one message for every failure, the sign-in rate limit on memory and
on Redis storage, server-side sessions (idle timeout, absolute lifetime, sign-out, rotation
at sign-in), CSRF on callbacks, forms and the upload API, and the security headers.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
from sqlalchemy import select, update

from data import schema as s
from data.access import Principal
from tests.conftest import REDIS_URL
from tests.integration.conftest import (
    PASSWORD,
    form_token,
    header_callback,
    login,
    logout,
    make_world,
    page_token,
)

ADA = "ada@example.org"
DOC_A = "doc.a@example.org"
NO_LIMIT = "1000 per minute"
SYSTEM = Principal(user_id=None, role="system")


@pytest.fixture
def world(tmp_path):
    """The cast on SQLite with a sign-in rate limit high enough not to interfere."""
    return make_world(tmp_path, login_rate_limit=NO_LIMIT)


@pytest.fixture
def client(world):
    return world.app.server.test_client()


def user_row(world, email: str):
    with world.repo.engine.connect() as conn:
        return conn.execute(select(s.users).where(s.users.c.email == email)).mappings().one()


def session_rows(world, email: str):
    uid = user_row(world, email)["id"]
    with world.repo.engine.connect() as conn:
        return conn.execute(select(s.user_sessions).where(s.user_sessions.c.user_id == uid)
                            .order_by(s.user_sessions.c.created_ts)).mappings().all()


def set_session_times(world, **values) -> None:
    with world.repo.engine.begin() as conn:
        conn.execute(update(s.user_sessions).values(**values))


def actions(world) -> list[str]:
    """Audit actions, oldest first."""
    return [e.action for e in reversed(world.repo.audit_events(SYSTEM, limit=1000))]


def callback_status(client, world) -> int:
    return client.post("/_dash-update-component",
                       json=header_callback(world.patient_a)).status_code


def note_callback(patient_id: int, text: str) -> dict:
    """The clinical page's "Add note" callback, as the browser posts it."""
    return {
        "output": "..clin-notes-version.data...clin-note-status.children..."
                  "clin-note-text.value..",
        "outputs": [{"id": "clin-notes-version", "property": "data"},
                    {"id": "clin-note-status", "property": "children"},
                    {"id": "clin-note-text", "property": "value"}],
        "inputs": [{"id": "clin-note-add", "property": "n_clicks", "value": 1}],
        "state": [{"id": "clin-note-when", "property": "value", "value": None},
                  {"id": "clin-note-text", "property": "value", "value": text},
                  {"id": "clin-notes-version", "property": "data", "value": 0},
                  {"id": "patient-store", "property": "data", "value": patient_id}],
        "changedPropIds": ["clin-note-add.n_clicks"],
    }


def notes_of(world, patient_id: int) -> list[str]:
    return [n.text for n in world.repo.notes(SYSTEM, patient_id)]


# --- failures, lockout ---------------------------------------------------------------

def test_every_failure_gets_the_same_page(client, world):
    wrong = login(client, ADA, "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Unknown e-mail or wrong password." in wrong.data
    strip = lambda r, email: r.data.replace(email.encode(), b"")  # noqa: E731
    assert strip(wrong, ADA) == strip(unknown, "nobody@example.org")
    for _ in range(5):
        login(client, "ben@example.org", "not the password")
    locked = login(client, "ben@example.org", PASSWORD)  # right password, locked account
    assert locked.status_code == 401
    assert strip(locked, "ben@example.org") == strip(wrong, ADA)


def test_five_failures_lock_the_account_and_success_resets_the_count(client, world):
    for _ in range(4):
        assert login(client, ADA, "wrong-password").status_code == 401
    assert user_row(world, ADA)["failed_logins"] == 4
    assert login(client, ADA).status_code == 302  # the fifth try is right: no lock
    assert user_row(world, ADA)["failed_logins"] == 0
    logout(client)
    for _ in range(5):
        assert login(client, ADA, "wrong-password").status_code == 401
    row = user_row(world, ADA)
    assert row["locked_until"] >= int(time.time()) + 15 * 60 - 5
    assert login(client, ADA).status_code == 401, "the right password does not open a lock"
    assert user_row(world, ADA)["locked_until"] == row["locked_until"], "not extended"
    assert actions(world).count("account_locked") == 1
    with world.repo.engine.begin() as conn:  # the 15 minutes have passed
        conn.execute(update(s.users).where(s.users.c.email == ADA)
                     .values(locked_until=int(time.time()) - 1))
    assert login(client, ADA).status_code == 302
    row = user_row(world, ADA)
    assert row["failed_logins"] == 0 and row["locked_until"] is None


def test_sign_in_events_are_audited(client, world):
    login(client, "nobody@example.org\x00\x07", "x" * 20)
    login(client, ADA, "wrong-password")
    login(client, ADA)
    logout(client)
    events = list(reversed(world.repo.audit_events(SYSTEM, limit=1000)))
    sign = [e for e in events if e.action in ("sign_in_failed", "sign_in", "sign_out")]
    assert [e.action for e in sign] == ["sign_in_failed", "sign_in_failed", "sign_in",
                                        "sign_out"]
    assert sign[0].actor == "nobody@example.org" and sign[0].actor_id is None
    assert sign[0].detail == {"reason": "unknown user"}
    assert sign[1].actor == ADA and sign[1].detail == {"reason": "wrong password"}
    assert sign[2].actor_id == user_row(world, ADA)["id"] and sign[3].actor == ADA
    assert world.repo.verify_audit().ok


@pytest.mark.parametrize("form", [
    {"email": "a" * 5000 + "@example.org", "password": "x"},
    {"email": "ada@example.org", "password": "p" * 100_000},
    {"email": "ada\x00@example.org", "password": "x\x00y"},
    {"email": "' OR 1=1 --", "password": "' OR '1'='1"},
    {},
])
def test_bad_sign_in_input_gets_the_plain_answer(client, world, form):
    response = client.post("/login", data={**form, "csrf_token": form_token(client)})
    assert response.status_code == 401
    assert b"Unknown e-mail or wrong password." in response.data
    assert b"Traceback" not in response.data


# --- rate limit -------------------------------------------------------------------------

def _hammer(client, times: int) -> list[int]:
    token = form_token(client)
    return [client.post("/login", data={"email": ADA, "password": "wrong-password",
                                        "csrf_token": token}).status_code
            for _ in range(times)]


def test_rate_limit_on_memory_storage(tmp_path):
    world = make_world(tmp_path, login_rate_limit="3 per minute", login_max_failures=100)
    client = world.app.server.test_client()
    assert _hammer(client, 4) == [401, 401, 401, 429]
    blocked = client.post("/login", data={"email": ADA, "password": PASSWORD,
                                          "csrf_token": form_token(client)})
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.get_data(as_text=True)
    assert blocked.mimetype == "text/html" and int(blocked.headers["Retry-After"]) > 0
    assert client.get("/login").status_code == 200, "only POST is limited"
    elsewhere = world.app.server.test_client()  # another address is not held back
    elsewhere.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    assert login(elsewhere, ADA).status_code == 302


def test_rate_limit_on_redis_is_shared_between_processes(tmp_path, redis_client):
    first = make_world(tmp_path / "a", redis_url=REDIS_URL, login_rate_limit="3 per minute")
    assert _hammer(first.app.server.test_client(), 3) == [401, 401, 401]
    assert any(b"/healthdash/" in k for k in redis_client.keys("*")), \
        "the counter lives in Redis"
    # a second web process on the same Redis sees the same count
    from app import create_app

    other = create_app(first.app.server.extensions["healthdash.settings"])
    assert _hammer(other.server.test_client(), 1) == [429]


# --- sessions ---------------------------------------------------------------------------

def test_session_ends_after_the_idle_timeout(client, world):
    login(client, ADA)
    assert callback_status(client, world) == 200
    set_session_times(world, last_seen_ts=int(time.time()) - 16 * 60)
    response = client.post("/_dash-update-component", json=header_callback(world.patient_a))
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}
    page = client.get("/metrics/steps")
    assert page.status_code == 302 and page.location.startswith("/login?next=/metrics/steps")
    sign_in_page = client.get(page.location).get_data(as_text=True)
    assert "signed out after 15 minutes without activity" in sign_in_page
    assert session_rows(world, ADA)[0]["ended_ts"] is not None
    assert actions(world).count("session_expired") == 1
    set_session_times(world, last_seen_ts=int(time.time()))  # ended stays ended
    assert callback_status(client, world) == 401


def test_session_ends_at_its_absolute_lifetime_however_busy(client, world):
    login(client, ADA)
    set_session_times(world, created_ts=int(time.time()) - 12 * 3600 - 1,
                      last_seen_ts=int(time.time()))
    assert callback_status(client, world) == 401
    assert "12-hour limit" in client.get("/login").get_data(as_text=True)


def test_use_keeps_a_session_alive_and_is_written_at_most_once_a_minute(client, world):
    login(client, ADA)
    old = int(time.time()) - 14 * 60
    set_session_times(world, last_seen_ts=old)
    assert callback_status(client, world) == 200
    seen = session_rows(world, ADA)[0]["last_seen_ts"]
    assert seen >= int(time.time()) - 2
    set_session_times(world, last_seen_ts=seen - 30)  # used 30 s ago: no write
    assert callback_status(client, world) == 200
    assert session_rows(world, ADA)[0]["last_seen_ts"] == seen - 30


def test_sign_out_makes_a_copied_cookie_worthless(client, world):
    login(client, ADA)
    stolen = client.get_cookie("session").value
    token = client.environ_base["HTTP_X_CSRF_TOKEN"]
    assert callback_status(client, world) == 200
    thief = world.app.server.test_client()
    thief.set_cookie("session", stolen)
    thief.environ_base["HTTP_X_CSRF_TOKEN"] = token
    assert callback_status(thief, world) == 200, "the copy works while the session lives"
    logout(client)
    assert callback_status(thief, world) == 401
    page = thief.get("/metrics/steps")
    assert page.status_code == 302 and page.location.startswith("/login")
    assert session_rows(world, ADA)[0]["ended_ts"] is not None
    assert "sign_out" in actions(world)


def test_sign_in_rotates_the_session(client, world):
    form_token(client)
    before = client.get_cookie("session").value
    pre_token = form_token(client)
    login(client, ADA)
    after = client.get_cookie("session").value
    assert after != before
    assert client.environ_base["HTTP_X_CSRF_TOKEN"] != pre_token, "new CSRF token"
    # a cookie planted before sign-in (fixation) carries no session afterwards
    planted = world.app.server.test_client()
    planted.set_cookie("session", before)
    assert callback_status(planted, world) == 401
    # each sign-in is a new server-side session; only its SHA-256 is stored
    logout(client)
    login(client, ADA)
    rows = session_rows(world, ADA)
    assert len(rows) == 2 and rows[0]["id"] != rows[1]["id"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["id"]) for r in rows)
    assert rows[0]["ended_ts"] is not None and rows[1]["ended_ts"] is None


def test_deactivated_user_loses_the_session(client, world):
    login(client, ADA)
    with world.repo.engine.begin() as conn:
        conn.execute(update(s.users).where(s.users.c.email == ADA).values(active=False))
    assert callback_status(client, world) == 401
    assert session_rows(world, ADA)[0]["ended_ts"] is not None


# --- CSRF -------------------------------------------------------------------------------

def test_callbacks_need_the_csrf_header(client, world):
    login(client, DOC_A, csrf=False)
    token = page_token(client)
    payload = note_callback(world.patient_a, "Forged note")
    missing = client.post("/_dash-update-component", json=payload)
    assert missing.status_code == 403 and missing.get_json() == {"error": "csrf"}
    wrong = client.post("/_dash-update-component", json=payload,
                        headers={"X-CSRF-Token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    other = world.app.server.test_client()  # a valid token of another session
    login(other, "doc.b@example.org")
    foreign = client.post("/_dash-update-component", json=payload,
                          headers={"X-CSRF-Token": other.environ_base["HTTP_X_CSRF_TOKEN"]})
    assert foreign.status_code == 403
    assert notes_of(world, world.patient_a) == [], "nothing stored"
    ok = client.post("/_dash-update-component", json=note_callback(world.patient_a, "Seen"),
                     headers={"X-CSRF-Token": token})
    assert ok.status_code == 200
    assert notes_of(world, world.patient_a) == ["Seen"]


def test_the_sign_in_form_needs_its_token(client, world):
    no_token = client.post("/login", data={"email": ADA, "password": PASSWORD})
    assert no_token.status_code == 403 and b"This form has expired" in no_token.data
    fresh = world.app.server.test_client()  # a token from another browser
    stolen = form_token(fresh)
    form_token(client)
    foreign = client.post("/login", data={"email": ADA, "password": PASSWORD,
                                          "csrf_token": stolen})
    assert foreign.status_code == 403
    assert "sign_in" not in actions(world)


def test_upload_api_needs_the_header_with_a_session_but_not_with_an_api_key(client, world):
    login(client, ADA, csrf=False)
    body = {"patient_id": world.patient_a, "filename": "export.zip", "size": 10}
    assert client.post("/api/v1/uploads", json=body).status_code == 403
    assert client.put(f"/api/v1/uploads/{'ab' * 16}", data=b"0123").status_code == 403
    assert client.post("/api/v1/uploads", json=body,
                       headers={"X-CSRF-Token": page_token(client)}).status_code == 201
    key = world.repo.create_api_key(user_row(world, ADA)["id"], ["ingest"])
    script = world.app.server.test_client()  # no cookie at all
    response = script.post("/api/v1/uploads", json=body,
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201


def test_logout_by_post_needs_the_token(client, world):
    login(client, ADA, csrf=False)
    assert client.post("/logout").status_code == 403
    assert callback_status(client, world) == 403  # still signed in (and still no header)
    assert client.post("/logout", headers={"X-CSRF-Token": page_token(client)}).status_code \
        == 302
    assert callback_status(client, world) == 401


# --- headers ----------------------------------------------------------------------------

def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_pages_carry_the_security_headers(client, world):
    login(client, ADA)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    csp = _csp(page)
    assert "unsafe-eval" not in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'" and csp["img-src"] == "'self' data: blob:"
    # every inline script in the page is allowed by its hash, and only those
    live = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # e.g. Dash's <!--[if IE]> block
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", live, re.S)
    executable = [body for attrs, body in inline if "application/json" not in attrs]
    assert executable, "Dash's renderer bootstrap is inline"
    for body in executable:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["script-src"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in page.headers, "plain HTTP: no HSTS"
    assert '<script src="/assets/csrf.js' in html
    callback = client.post("/_dash-update-component", json=header_callback(world.patient_a))
    assert callback.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags_and_hsts(tmp_path):
    world = make_world(tmp_path, session_cookie_secure=True, login_rate_limit=NO_LIMIT)
    client = world.app.server.test_client()
    form = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"email": ADA, "password": PASSWORD,
                                           "csrf_token": token},
                           base_url="https://localhost")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_https_behind_a_trusted_proxy_gets_hsts(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    plain = make_world(tmp_path / "a").app.server.test_client()
    assert "Strict-Transport-Security" not in plain.get("/login", headers=forwarded).headers
    proxied = make_world(tmp_path / "b", trust_proxy=1).app.server.test_client()
    assert proxied.get("/login", headers=forwarded).headers[
        "Strict-Transport-Security"] == "max-age=31536000"


# --- the repository's side, on SQLite and PostgreSQL -------------------------------------

def live_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_sessions_and_lockout_in_the_repository(repo):
    uid = repo.create_user("eve@example.org", "Eve", "patient", None)
    t0 = 1_800_000_000
    token = repo.start_session(uid, ip="127.0.0.1", user_agent="test", now=t0)
    limits = {"idle_s": 900, "max_age_s": 12 * 3600}
    assert repo.check_session(token, now=t0 + 899, **limits).user_id == uid
    assert repo.check_session("not-a-token", now=t0, **limits).user_id is None
    first = repo.check_session(token, now=t0 + 899 + 901, **limits)
    assert first.expired == "idle" and first.ended_now and first.user_id is None
    again = repo.check_session(token, now=t0 + 899 + 902, **limits)
    assert again.expired == "idle" and not again.ended_now, "the same reason, audited once"
    old = repo.start_session(uid, now=t0)
    for minute in range(1, 12 * 4 + 1):  # busy every 15 minutes for 12 hours
        assert repo.check_session(old, now=t0 + minute * 900, **limits).user_id == uid
    assert repo.check_session(old, now=t0 + 12 * 3600 + 1, **limits).expired == "lifetime"
    live = repo.start_session(uid, now=t0)
    assert repo.end_session(live, now=t0 + 1) and not repo.end_session(live, now=t0 + 2)
    assert repo.check_session(live, now=t0 + 3, **limits) == type(first)(
        None, session_id=live_id(live))
    others = [repo.start_session(uid) for _ in range(2)]
    assert repo.end_user_sessions(uid) == 2
    assert all(repo.check_session(o, **limits).user_id is None for o in others)

    lock = {"max_failures": 5, "lock_s": 900}
    assert [repo.note_failed_login(uid, now=t0, **lock) for _ in range(5)] == [
        False, False, False, False, True]
    state = repo.login_state(uid)
    assert state.locked(t0 + 899) and not state.locked(t0 + 900)
    assert not repo.note_failed_login(uid, now=t0 + 10, **lock)  # not counted while locked
    assert repo.login_state(uid).locked_until == t0 + 900
    assert repo.login_state(uid).failed_logins == 0
    repo.note_failed_login(uid, now=t0 + 901, **lock)
    repo.reset_failed_logins(uid)
    assert repo.login_state(uid) == type(state)(0, None)
