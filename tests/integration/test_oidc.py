"""Single sign-on against the suite's own OpenID Connect provider (tests/oidc_provider.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app import create_app
from auth.oidc import config_from, role_for
from auth.passwords import hash_password
from data.access import Principal
from data.migrate import upgrade
from data.repository import Repository
from settings import Settings
from tests.integration.conftest import logout
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

GROUP_ROLES = {"hd-admins": "admin", "hd-clinicians": "clinician", "hd-patients": "patient"}
CLINICIAN = {"sub": "u-100", "email": "grace@example.org", "email_verified": True,
             "name": "Grace Example", "groups": ["staff", "hd-clinicians"]}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(dict(CLINICIAN)) as p:
        yield p


def make_app(tmp_path, provider: Provider | None, **extra):
    oidc = {}
    if provider is not None:
        oidc = dict(oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                    oidc_client_secret=CLIENT_SECRET, oidc_group_roles=GROUP_ROLES)
    settings = Settings(data_dir=tmp_path, secret_key="test-secret", _env_file=None,
                        **oidc, **extra)
    app = create_app(settings)
    upgrade(app.server.extensions["healthdash.repository"].engine)
    return app


def sso(client, provider: Provider, next_url: str = "/"):
    """The browser's trip: app -> provider -> app callback; returns the callback's response
    and the callback URL (to replay)."""
    start = client.get(f"/login/oidc?next={next_url}")
    assert start.status_code == 302, start.data
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    callback = f"{back.path}?{back.query}"
    return client.get(callback), callback


def audit(repo: Repository, action: str) -> list:
    return [e for e in repo.audit_events(Principal.system(), limit=1000) if e.action == action]


def test_new_user_is_created_with_the_mapped_role(tmp_path, provider):
    app = make_app(tmp_path, provider)
    repo: Repository = app.server.extensions["healthdash.repository"]
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with single sign-on" in page and "/login/oidc" in page

    response, _ = sso(client, provider, "/patients")
    assert response.status_code == 302 and response.headers["Location"] == "/patients"
    asked = provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    user = repo.user_by_email("grace@example.org")
    assert user.role == "clinician" and user.password_hash is None
    assert repo.oidc_binding(user.id) == (provider.url, "u-100")
    assert client.get("/patients").status_code == 200  # signed in
    signed_in = audit(repo, "sign_in")
    assert signed_in and signed_in[0].detail == {"method": "oidc"}
    assert audit(repo, "user_create")


def test_existing_account_is_bound_by_verified_email_then_found_by_subject(tmp_path, provider):
    app = make_app(tmp_path, provider)
    repo: Repository = app.server.extensions["healthdash.repository"]
    local = repo.create_user("grace@example.org", "Grace", "clinician",
                             hash_password("password-1234"))
    response, _ = sso(app.server.test_client(), provider)
    assert response.status_code == 302
    assert repo.oidc_binding(local) == (provider.url, "u-100")
    assert audit(repo, "sso_bind")
    # the e-mail changes at the provider: the binding, not the e-mail, finds the account
    provider.user["email"] = "grace.new@example.org"
    response, _ = sso(app.server.test_client(), provider)
    assert response.status_code == 302
    assert repo.user_by_email("grace.new@example.org") is None


def test_unverified_email_does_not_bind_or_create(tmp_path, provider):
    app = make_app(tmp_path, provider)
    repo: Repository = app.server.extensions["healthdash.repository"]
    local = repo.create_user("grace@example.org", "Grace", "clinician", None)
    provider.user["email_verified"] = False
    client = app.server.test_client()
    response, _ = sso(client, provider)
    assert response.status_code == 403
    assert "not confirmed your e-mail" in response.get_data(as_text=True)
    assert repo.oidc_binding(local) is None
    assert client.get("/patients").status_code == 302  # not signed in
    failed = audit(repo, "sign_in_failed")
    assert failed and failed[0].detail["reason"] == "e-mail not verified"


def test_groups_decide_the_role(tmp_path, provider):
    app = make_app(tmp_path, provider)
    repo: Repository = app.server.extensions["healthdash.repository"]
    provider.user["groups"] = ["hd-clinicians", "hd-admins"]  # the mapping's order decides
    assert sso(app.server.test_client(), provider)[0].status_code == 302
    assert repo.user_by_email("grace@example.org").role == "admin"
    provider.user["groups"] = ["hd-patients"]  # the provider is the source of truth
    assert sso(app.server.test_client(), provider)[0].status_code == 302
    user = repo.user_by_email("grace@example.org")
    assert user.role == "patient" and repo.principal_for(user).patient_id is not None
    assert audit(repo, "role_change")[0].detail == {"from": "admin", "to": "patient",
                                                     "via": "oidc"}
    provider.user["groups"] = ["staff"]
    response, _ = sso(app.server.test_client(), provider)
    assert response.status_code == 403
    assert "not in a group that may use HealthDash" in response.get_data(as_text=True)


def test_default_role_and_no_creation(tmp_path, provider):
    provider.user["groups"] = []
    app = make_app(tmp_path / "a", provider, oidc_default_role="patient")
    assert sso(app.server.test_client(), provider)[0].status_code == 302
    repo: Repository = app.server.extensions["healthdash.repository"]
    assert repo.user_by_email("grace@example.org").role == "patient"
    provider.user["groups"] = ["hd-clinicians"]
    app = make_app(tmp_path / "b", provider, oidc_create_users=False)
    response, _ = sso(app.server.test_client(), provider)
    assert response.status_code == 403 and "no HealthDash account" in response.get_data(
        as_text=True)


@pytest.mark.parametrize("knob", ["audience", "sign_with_unpublished_key", "wrong_nonce",
                                  "expired"])
def test_bad_id_tokens_are_refused(tmp_path, provider, knob):
    app = make_app(tmp_path, provider)
    repo: Repository = app.server.extensions["healthdash.repository"]
    setattr(provider, knob, "someone-else" if knob == "audience" else True)
    client = app.server.test_client()
    response, _ = sso(client, provider)
    assert response.status_code == 401
    assert "did not complete" in response.get_data(as_text=True)
    assert repo.user_by_email("grace@example.org") is None
    assert client.get("/patients").status_code == 302
    assert audit(repo, "sign_in_failed")[0].detail["method"] == "oidc"


def test_replayed_or_forged_state_is_refused(tmp_path, provider):
    app = make_app(tmp_path, provider)
    client = app.server.test_client()
    response, callback = sso(client, provider)
    assert response.status_code == 302
    logout(client)
    assert client.get(callback).status_code == 401  # state used once
    # a callback from another browser's flow (its state is not in this session)
    other = app.server.test_client()
    _, foreign = sso(other, provider)
    assert app.server.test_client().get(foreign).status_code == 401
    query = parse_qs(urlsplit(callback).query)
    forged = f"/login/oidc/callback?code={query['code'][0]}&state=forged"
    assert client.get(forged).status_code == 401
    assert client.get("/login/oidc/callback?error=access_denied&state=x").status_code == 401


def test_off_without_settings_and_bad_settings_refused(tmp_path, provider):
    app = make_app(tmp_path, None)
    client = app.server.test_client()
    assert "single sign-on" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404
    base = Settings(_env_file=None, oidc_issuer=provider.url, oidc_client_id="x",
                    oidc_client_secret="y")
    with pytest.raises(ValueError, match="not one of"):
        config_from(base.model_copy(update={"oidc_group_roles": {"g": "superuser"}}))
    with pytest.raises(ValueError, match="openid"):
        config_from(base.model_copy(update={"oidc_scopes": "email"}))


def test_provider_unreachable_is_a_plain_503(tmp_path, provider):
    provider.url = "http://127.0.0.1:9"  # nothing listens there
    app = make_app(tmp_path, provider)
    response = app.server.test_client().get("/login/oidc")
    assert response.status_code == 503 and "unavailable" in response.get_data(as_text=True)


def test_role_for_precedence():
    mapping = tuple(GROUP_ROLES.items())
    assert role_for(["hd-patients", "hd-admins"], mapping, None) == "admin"
    assert role_for("hd-clinicians", mapping, None) == "clinician"
    assert role_for(None, mapping, "patient") == "patient"
    assert role_for([1, {"x": 2}], mapping, None) is None
    assert json.loads(json.dumps(GROUP_ROLES)) == dict(mapping)
