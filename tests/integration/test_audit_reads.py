"""Every read of a patient's data writes one audit event per request (or job) and patient,
named by the channel it came through; refusals are recorded as `read_denied`."""

from __future__ import annotations

import pytest

from data import audit_context
from data.access import AccessDenied, Principal
from data.queries import SeriesQuery
from tests.integration.conftest import header_callback, login, make_world, panel_callback

ADMIN = Principal(None, "system")


def _reads(repo, **where):
    return [e for e in reversed(repo.audit_events(ADMIN, limit=1000, **where))
            if e.action in ("read", "read_denied")]


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path):
    if request.param == "sqlite":
        yield make_world(tmp_path)
        return
    from tests.conftest import _truncate

    engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    built = make_world(tmp_path, database_url=request.getfixturevalue("pg_database"))
    yield built
    built.repo.engine.dispose()
    _truncate(engine)


@pytest.fixture
def client(world):
    return world.app.server.test_client()


def test_a_callback_read_is_logged_once_per_request_with_channel_and_ip(client, world):
    login(client, "doc.a@example.org")
    before = len(_reads(world.repo))
    for _ in range(2):
        assert client.post("/_dash-update-component",
                           json=panel_callback(world.patient_a)).status_code == 200
    events = _reads(world.repo)[before:]
    # the weight panel authorizes the patient several times per request: one event each
    assert [(e.action, e.patient_id) for e in events] == [("read", world.patient_a)] * 2
    event = events[0]
    assert event.target == "callback clin-stats-weight.children,clin-graph-weight.figure"
    assert event.actor == "doc.a@example.org" and event.actor_role == "clinician"
    assert event.ip == "127.0.0.1"
    assert world.repo.verify_audit().ok


def test_a_refused_read_is_logged_as_read_denied(client, world):
    login(client, "doc.b@example.org")
    assert client.post("/_dash-update-component",
                       json=header_callback(world.patient_a)).status_code == 403
    [event] = _reads(world.repo, patient_id=world.patient_a)
    assert event.action == "read_denied" and event.actor == "doc.b@example.org"
    assert event.target == "callback patient-header.children,kpi-row.children"


def test_api_export_and_report_download_are_labelled(client, world):
    login(client, "ada@example.org")
    url = f"/api/v1/patients/{world.patient_a}/series"
    assert client.get(url, query_string={"metric": "body_mass", "format": "csv"}).status_code \
        == 200
    assert client.get(f"/api/v1/patients/{world.patient_a}/clinical").status_code == 200
    export, api = _reads(world.repo)[-2:]
    assert export.target == f"export GET {url}"
    assert export.detail == {"format": "csv", "metric": "body_mass"}
    assert export.actor == "ada@example.org" and export.actor_role == "patient"
    assert api.target == f"api GET /api/v1/patients/{world.patient_a}/clinical"

    from callbacks.report import generate_report
    from data.panels import panel_window

    ada = world.repo.principal_for(world.repo.user_by_email("ada@example.org"))
    with audit_context.scope("job report"):
        report_id, _ = generate_report(world.repo, ada,
                                       panel_window(world.patient_a, "Europe/Paris", "90d",
                                                    None, None))
    job = _reads(world.repo)[-1]
    assert (job.target, job.action, job.actor) == ("job report", "read", "ada@example.org")
    assert client.get(f"/reports/{report_id}.pdf").status_code == 200
    download = _reads(world.repo)[-1]
    assert download.target == f"report GET /reports/{report_id}.pdf"
    assert download.detail == {"report_id": report_id}


def test_the_page_channel_is_the_path(client, world):
    login(client, "doc.a@example.org")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname",
                    "value": f"/patients/{world.patient_a}"},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    with world.app.server.test_request_context("/_dash-update-component", method="POST",
                                               json=body):
        from auth.audit_hooks import channel_of_request

        assert channel_of_request() == f"page /patients/{world.patient_a}"


def test_reads_outside_a_context(world):
    repo = world.repo
    query = SeriesQuery(world.patient_a, "body_mass", None, None, max_points=100)
    before = len(_reads(repo))
    repo.series(Principal.system(), query)  # internal work: not a person, not audited
    assert len(_reads(repo)) == before
    doc = repo.principal_for(repo.user_by_email("doc.a@example.org"))
    repo.series(doc, query)
    repo.series(doc, query)  # a person's read is recorded every time ("direct")
    events = _reads(repo)[before:]
    assert [(e.target, e.actor) for e in events] == [("direct", "doc.a@example.org")] * 2
    with audit_context.scope("cli export", actor_label="system (ops@host)"):
        repo.series(Principal.system(), query)
        repo.series(Principal.system(), query)
        with pytest.raises(AccessDenied):
            repo.series(Principal(99, "patient", 99), query)
    last = _reads(repo)[-2:]
    assert [(e.action, e.actor, e.target) for e in last] == [
        ("read", "system (ops@host)", "cli export"),
        ("read_denied", "patient#99", "cli export")]


def test_an_impossible_patient_id_is_recorded_without_failing(world):
    with audit_context.scope("callback x.y"):
        for bad in (None, "abc"):
            with pytest.raises((AccessDenied, ValueError, TypeError)):
                world.repo.authorize(Principal(1, "patient", 1), bad)
    assert world.repo.verify_audit().ok
