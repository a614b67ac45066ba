"""Settings → API keys: create (shown once), list, revoke; audited; only one's own keys."""

from __future__ import annotations

import json

from data.access import Principal
from tests.integration.conftest import login

ADA = "ada@example.org"
BEN = "ben@example.org"


def _create(client, scopes: list[str]) -> dict:
    response = client.post("/_dash-update-component", json={
        "output": "..api-key-new.children...api-key-version.data..",
        "outputs": [{"id": "api-key-new", "property": "children"},
                    {"id": "api-key-version", "property": "data"}],
        "inputs": [{"id": "api-key-create", "property": "n_clicks", "value": 1}],
        "state": [{"id": "api-key-scopes", "property": "value", "value": scopes},
                  {"id": "api-key-version", "property": "data", "value": 0}],
        "changedPropIds": ["api-key-create.n_clicks"],
    })
    assert response.status_code == 200, response.data
    return response.get_json()["response"]


def _revoke(client, key_id: int) -> dict:
    button = {"type": "api-key-revoke", "key": key_id}
    output = next(d["output"] for d in client.get("/_dash-dependencies").get_json()
                  if "api-key-status.children" in d["output"])
    response = client.post("/_dash-update-component", json={
        "output": output,
        "outputs": [{"id": "api-key-status", "property": "children"},
                    {"id": "api-key-version", "property": "data"}],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [{"id": "api-key-version", "property": "data", "value": 1}],
        "changedPropIds": [json.dumps(button, separators=(",", ":"), sort_keys=True)
                           + ".n_clicks"],
    })
    return response


def _token(created: dict) -> str:
    text = json.dumps(created["api-key-new"]["children"])
    start = text.index('"value": "hd_') + len('"value": "')
    return text[start:text.index('"', start)]


def test_create_shows_the_key_once_and_it_works(world):
    client = world.app.server.test_client()
    login(client, ADA)
    page = client.get("/settings/api-keys")
    assert page.status_code == 200
    created = _create(client, ["read"])
    token = _token(created)
    assert token.startswith("hd_") and "will not be shown again" in json.dumps(created)
    api = world.app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/patients/{world.patient_a}/series?metric=body_mass"
    assert api.get(url, headers=headers).status_code == 200
    # a read key may not ingest
    assert api.post(f"/api/v1/imports/apple-health?patient_id={world.patient_a}",
                    data=b"x", content_type="application/zip", headers=headers
                    ).status_code == 403

    ada = world.repo.user_by_email(ADA)
    keys = world.repo.api_keys_of(ada.id)
    assert [(k.scopes, k.revoked_ts) for k in keys] == [(("read",), None)]
    assert keys[0].last_used_ts is not None
    # only the hash is stored: the secret appears nowhere in the table
    with world.repo.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT * FROM api_keys").fetchall()
    assert token.split("_", 2)[2] not in repr(stored)
    events = [e for e in world.repo.audit_events(Principal.system())
              if e.action == "api_key_create"]
    assert events and events[0].actor_id == ada.id and token not in json.dumps(events[0].detail)


def test_revoke_own_key_only(world):
    ada_client = world.app.server.test_client()
    login(ada_client, ADA)
    token = _token(_create(ada_client, ["read", "ingest"]))
    ada = world.repo.user_by_email(ADA)
    key_id = world.repo.api_keys_of(ada.id)[0].id

    ben_client = world.app.server.test_client()
    login(ben_client, BEN)
    refused = _revoke(ben_client, key_id)
    assert refused.status_code == 200
    assert "not found among your active keys" in refused.get_data(as_text=True)
    assert world.repo.api_keys_of(ada.id)[0].revoked_ts is None

    done = _revoke(ada_client, key_id)
    assert "Key revoked" in done.get_data(as_text=True)
    assert world.repo.api_keys_of(ada.id)[0].revoked_ts is not None
    url = f"/api/v1/patients/{world.patient_a}/series?metric=body_mass"
    assert world.app.server.test_client().get(
        url, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert [e.action for e in world.repo.audit_events(Principal.system())
            if e.action.startswith("api_key_")] == ["api_key_revoke", "api_key_create"]
    page = ada_client.get("/settings/api-keys")
    assert page.status_code == 200


def test_no_scope_or_unknown_scope_creates_nothing(world):
    client = world.app.server.test_client()
    login(client, ADA)
    for scopes in ([], ["admin"], ["read", "everything"]):
        created = _create(client, scopes)
        assert "Choose at least one scope" in json.dumps(created)
    assert world.repo.api_keys_of(world.repo.user_by_email(ADA).id) == []


def test_anonymous_gets_nothing(world):
    client = world.app.server.test_client()
    assert client.get("/settings/api-keys").status_code == 302
    response = client.post("/_dash-update-component", json={
        "output": "api-key-table.children",
        "outputs": {"id": "api-key-table", "property": "children"},
        "inputs": [{"id": "api-key-version", "property": "data", "value": 1}],
        "changedPropIds": [],
    })
    assert response.status_code in (401, 403)


def test_cli_create_still_works_and_is_audited(world, monkeypatch, capsys):
    from cli import main
    from settings import get_settings

    monkeypatch.setenv("DATABASE_URL", str(world.repo.engine.url))
    get_settings.cache_clear()
    try:
        assert main(["api-key", "create", "--user", ADA, "--scope", "ingest"]) == 0
    finally:
        get_settings.cache_clear()
    token = capsys.readouterr().out.strip()
    assert world.repo.check_api_key(token).scopes == ("ingest",)
    created = [e for e in world.repo.audit_events(Principal.system())
               if e.action == "api_key_create"]
    assert created[0].actor_role == "system"
