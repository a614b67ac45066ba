"""Single sign-on in Chromium: sign-in page -> the suite's OIDC provider -> the right page."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from app import create_app
from data.migrate import upgrade
from data.repository import Repository
from settings import Settings
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory) -> Iterator[tuple[str, Provider, Repository]]:
    """The app with single sign-on against the test provider, over HTTP on 127.0.0.1."""
    with running_provider({"sub": "u-7", "email": "grace@example.org", "email_verified": True,
                           "name": "Grace Example", "groups": ["hd-clinicians"]}) as provider:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("sso"), secret_key="browser-sso", _env_file=None,
            oidc_issuer=provider.url, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
            oidc_group_roles={"hd-admins": "admin", "hd-clinicians": "clinician",
                              "hd-patients": "patient"})
        app = create_app(settings)
        repo: Repository = app.server.extensions["healthdash.repository"]
        upgrade(repo.engine)
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}", provider, repo
        server.shutdown()


def _sign_in_with_sso(page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.wait_for_load_state("networkidle")


def test_clinician_signs_in_through_the_provider(sso_site, page):
    url, provider, repo = sso_site
    provider.user.update(sub="u-7", email="grace@example.org", groups=["hd-clinicians"])
    _sign_in_with_sso(page, url)
    page.wait_for_url(f"{url}/patients")
    assert page.locator("#nav-user").inner_text() == "Grace Example · clinician"
    assert repo.user_by_email("grace@example.org").role == "clinician"


def test_patient_lands_on_the_overview_and_a_stranger_is_refused(sso_site, page, browser):
    url, provider, repo = sso_site
    provider.user.update(sub="u-8", email="pat@example.org", name="Pat Example",
                         groups=["hd-patients"])
    _sign_in_with_sso(page, url)
    page.wait_for_url(f"{url}/")
    assert page.locator("#nav-user").inner_text() == "Pat Example · patient"

    context = browser.new_context()
    other = context.new_page()
    try:
        provider.user.update(sub="u-9", email="stranger@example.org", groups=["visitors"])
        _sign_in_with_sso(other, url)
        assert "not in a group that may use HealthDash" in other.locator(
            "[role=alert]").inner_text()
        assert repo.user_by_email("stranger@example.org") is None
    finally:
        context.close()
