"""Roles and consent on SQLite and PostgreSQL: caregivers by invitation, care-team grants,
admin break-glass, writes narrower than reads, and an audit event for every change."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from data import schema as s
from data.access import AccessDenied, Principal
from data.repository import ObservationBatch, Repository
from data.repository.base import now_ts

KINDS = {"Scale": "scale", "Apple Watch": "watch", "iPhone": "phone"}
SYSTEM = Principal.system()


@pytest.fixture
def cast(repo: Repository):
    """Ada (patient) with a little data, Ben (another patient), a caregiver, two clinicians,
    an admin."""
    ada_user = repo.create_user("ada@example.org", "Ada", "patient", None)
    ben_user = repo.create_user("ben@example.org", "Ben", "patient", None)
    carer = repo.create_user("carl.carer@example.org", "Carl Carer", "caregiver", None)
    other_carer = repo.create_user("cora@example.org", "Cora", "caregiver", None)
    doc = repo.create_user("doc@example.org", "Dr Doc", "clinician", None)
    doc2 = repo.create_user("doc2@example.org", "Dr Two", "clinician", None)
    admin = repo.create_user("admin@example.org", "Admin", "admin", None)
    ada = repo.create_patient("Ada Example", "Europe/Paris", user_id=ada_user)
    ben = repo.create_patient("Ben Example", "UTC", user_id=ben_user)
    now = now_ts()
    repo.upsert_observations(ObservationBatch(ada, [
        ("body_mass", now - d * 86400, now - d * 86400, 0, 70.0 + d, "Scale") for d in range(3)
    ] + [("steps", now - 3600, now - 3000, 0, 100.0, "Apple Watch"),
         ("steps", now - 3600, now - 3000, 0, 90.0, "iPhone")], KINDS))
    return {
        "ada": ada, "ben": ben,
        "patient": Principal(ada_user, "patient", ada),
        "ben_p": Principal(ben_user, "patient", ben),
        "carer": Principal(carer, "caregiver"), "carer_id": carer,
        "other_carer": Principal(other_carer, "caregiver"),
        "doc": Principal(doc, "clinician"), "doc_id": doc,
        "doc2": Principal(doc2, "clinician"), "doc2_id": doc2,
        "admin": Principal(admin, "admin"), "admin_id": admin,
    }


def actions(repo: Repository, patient_id: int) -> list[str]:
    """Audit actions about a patient, oldest first (reads left out: another part logs them)."""
    return [e.action for e in reversed(repo.audit_events(SYSTEM, patient_id=patient_id))
            if not e.action.startswith("read")]


def last_event(repo: Repository, patient_id: int, action: str):
    return next(e for e in repo.audit_events(SYSTEM, patient_id=patient_id, action=action))


def invite_and_accept(repo, cast) -> str:
    token = repo.invite_caregiver(cast["patient"], cast["ada"], "Carl.Carer@example.org")
    assert repo.accept_invitation(cast["carer"], token) == cast["ada"]
    return token


def expire(repo, table, row_id: int) -> None:
    """Move a row's expiry into the past (time travel for the test)."""
    with repo.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(expires_ts=now_ts() - 1))


# --- caregivers --------------------------------------------------------------------------


def test_caregiver_sees_only_after_accepting_and_not_after_revocation(repo, cast):
    ada, carer = cast["ada"], cast["carer"]
    assert not repo.can_see(carer, ada)
    assert repo.list_patients(carer) == []
    token = repo.invite_caregiver(cast["patient"], ada, "carl.carer@example.org")
    assert not repo.can_see(carer, ada), "an invitation alone grants nothing"
    view = repo.invitation_for(carer, token)
    assert (view.patient_name, view.invited_by) == ("Ada Example", "Ada")
    repo.accept_invitation(carer, token)
    assert repo.can_see(carer, ada)
    assert [p.name for p in repo.list_patients(carer)] == ["Ada Example"]
    assert repo.patient(carer, ada).name == "Ada Example"
    assert len(repo.notes(carer, ada)) == 0
    assert not repo.can_see(carer, cast["ben"])
    assert not repo.can_see(cast["other_carer"], ada), "a grant is for one person"
    assert [g.email for g in repo.caregivers(cast["patient"], ada)] == ["carl.carer@example.org"]

    assert repo.revoke_caregiver(cast["patient"], ada, cast["carer_id"])
    assert not repo.can_see(carer, ada), "revocation is immediate"
    assert repo.list_patients(carer) == []
    with pytest.raises(AccessDenied):
        repo.patient(carer, ada)
    assert repo.caregivers(cast["patient"], ada) == []
    assert not repo.revoke_caregiver(cast["patient"], ada, cast["carer_id"])
    assert actions(repo, ada) == ["invitation.create", "caregiver.grant", "caregiver.revoke"]
    grant = last_event(repo, ada, "caregiver.grant")
    assert "carl.carer@example.org" in grant.detail["caregiver"]
    revoke = last_event(repo, ada, "caregiver.revoke")
    assert revoke.actor_id == cast["patient"].user_id
    assert "carl.carer@example.org" in revoke.detail["caregiver"]
    assert last_event(repo, ada, "invitation.create").detail["email"] == \
        "carl.carer@example.org"


def test_a_caregiver_changes_nothing(repo, cast):
    invite_and_accept(repo, cast)
    ada, carer = cast["ada"], cast["carer"]
    assert repo.can_see(carer, ada) and not repo.can_change(carer, ada)
    now = now_ts()
    with pytest.raises(AccessDenied):
        repo.add_note(carer, ada, now, "feeling fine")
    with pytest.raises(AccessDenied):
        repo.mark_reviewed(carer, ada)
    with pytest.raises(AccessDenied):
        repo.save_report(carer, ada, now - 86400, now, 1, b"%PDF-1.4")
    sources = [sid for sid, *_ in repo.sources(carer, ada, "steps")]
    with pytest.raises(AccessDenied):
        repo.set_metric_priority(carer, ada, "steps", list(reversed(sources)))
    with pytest.raises(AccessDenied):
        repo.create_job(carer, ada, "apple_health", "export.zip", "/tmp/x.zip", 10)
    with pytest.raises(AccessDenied):
        repo.create_upload(carer, ada, "export.zip", 10, "/tmp/x.part")
    job = repo.create_job(cast["patient"], ada, "apple_health", "export.zip", "/tmp/x", 10)
    assert repo.job(carer, job.id).id == job.id, "a caregiver may follow an import"
    with pytest.raises(AccessDenied):
        repo.request_cancel(carer, job.id)
    assert repo.notes(SYSTEM, ada) == []
    assert repo.last_review(SYSTEM, ada) is None
    assert repo.latest_report(SYSTEM, ada) is None
    # the patient and the care team still write
    repo.add_note(cast["patient"], ada, now, "feeling fine")
    repo.set_metric_priority(cast["patient"], ada, "steps", list(reversed(sources)))
    repo.request_cancel(cast["patient"], job.id)


def test_a_caregiver_cannot_manage_sharing(repo, cast):
    invite_and_accept(repo, cast)
    ada, carer = cast["ada"], cast["carer"]
    for call in (lambda: repo.invite_caregiver(carer, ada, "x@example.org"),
                 lambda: repo.caregivers(carer, ada),
                 lambda: repo.revoke_caregiver(carer, ada, cast["carer_id"]),
                 lambda: repo.grant_clinician(carer, ada, cast["doc_id"]),
                 lambda: repo.care_team(carer, ada),
                 lambda: repo.invite_caregiver(cast["ben_p"], ada, "x@example.org"),
                 lambda: repo.grant_clinician(cast["doc"], ada, cast["doc2_id"])):
        with pytest.raises(AccessDenied):
            call()


def test_an_invitation_is_single_use(repo, cast):
    token = invite_and_accept(repo, cast)
    with pytest.raises(ValueError, match="already been used"):
        repo.accept_invitation(cast["carer"], token)
    with pytest.raises(ValueError, match="already been used"):
        repo.invitation_for(cast["carer"], token)
    assert actions(repo, cast["ada"]).count("caregiver.grant") == 1


def test_an_invitation_expires(repo, cast):
    token = repo.invite_caregiver(cast["patient"], cast["ada"], "carl.carer@example.org")
    pending = repo.invitations(cast["patient"], cast["ada"])
    assert [i.email for i in pending] == ["carl.carer@example.org"]
    assert pending[0].expires_ts - pending[0].created_ts == 7 * 86400
    expire(repo, s.invitations, pending[0].id)
    with pytest.raises(ValueError, match="expired"):
        repo.accept_invitation(cast["carer"], token)
    assert not repo.can_see(cast["carer"], cast["ada"])
    assert repo.invitations(cast["patient"], cast["ada"]) == []


def test_an_invitation_works_only_for_the_invited_email(repo, cast):
    token = repo.invite_caregiver(cast["patient"], cast["ada"], "carl.carer@example.org")
    for who in ("other_carer", "doc", "ben_p"):
        with pytest.raises(ValueError, match="not valid for your account"):
            repo.accept_invitation(cast[who], token)
    with pytest.raises(ValueError, match="not valid for your account"):
        repo.accept_invitation(cast["carer"], token + "x")
    with pytest.raises(ValueError, match="not valid"):
        repo.accept_invitation(cast["carer"], "")
    assert not repo.can_see(cast["other_carer"], cast["ada"])
    # the right person still can: failed attempts do not use it up
    assert repo.accept_invitation(cast["carer"], token) == cast["ada"]


def test_only_the_token_hash_is_stored_and_a_cancelled_invitation_is_dead(repo, cast):
    token = repo.invite_caregiver(cast["patient"], cast["ada"], "carl.carer@example.org")
    with repo.engine.connect() as conn:
        stored = conn.execute(s.invitations.select()).mappings().one()
    assert token not in stored["token_hash"] and len(stored["token_hash"]) == 64
    assert repo.cancel_invitation(cast["patient"], cast["ada"], stored["id"])
    with pytest.raises(ValueError, match="expired"):
        repo.accept_invitation(cast["carer"], token)
    assert actions(repo, cast["ada"]) == ["invitation.create", "invitation.cancel"]
    with pytest.raises(ValueError, match="e-mail"):
        repo.invite_caregiver(cast["patient"], cast["ada"], "not an address")


def test_a_user_who_is_not_a_caregiver_cannot_accept(repo, cast):
    token = repo.invite_caregiver(cast["patient"], cast["ada"], "doc2@example.org")
    with pytest.raises(ValueError, match="only a caregiver account"):
        repo.accept_invitation(cast["doc2"], token)


# --- clinicians --------------------------------------------------------------------------


def test_a_patient_grants_and_revokes_a_clinician(repo, cast):
    ada, patient, doc = cast["ada"], cast["patient"], cast["doc"]
    assert not repo.can_see(doc, ada)
    assert repo.grant_clinician_by_email(patient, ada, "DOC@example.org")
    assert repo.can_see(doc, ada) and repo.can_change(doc, ada)
    assert [p.name for p in repo.list_patients(doc)] == ["Ada Example"]
    team = repo.care_team(patient, ada)
    assert [(g.email, g.granted_by) for g in team] == [("doc@example.org", "Ada")]
    assert not repo.grant_clinician_by_email(patient, ada, "doc@example.org"), "idempotent"
    repo.add_note(doc, ada, now_ts(), "seen in clinic")
    repo.mark_reviewed(doc, ada)
    with pytest.raises(ValueError, match="no active clinician"):
        repo.grant_clinician_by_email(patient, ada, "carl.carer@example.org")
    with pytest.raises(ValueError, match="no active clinician"):
        repo.grant_clinician_by_email(patient, ada, "nobody@example.org")
    assert repo.revoke_clinician(patient, ada, cast["doc_id"])
    assert not repo.can_see(doc, ada)
    assert repo.list_patients(doc) == []
    with pytest.raises(AccessDenied):
        repo.add_note(doc, ada, now_ts(), "after revocation")
    assert actions(repo, ada) == ["care_team.grant", "care_team.revoke"]
    assert "doc@example.org" in last_event(repo, ada, "care_team.grant").detail["clinician"]
    assert "doc@example.org" in last_event(repo, ada, "care_team.revoke").detail["clinician"]


def test_an_admin_assigns_and_removes_a_clinician(repo, cast):
    ada, admin = cast["ada"], cast["admin"]
    assert repo.grant_clinician(admin, ada, cast["doc2_id"])
    assert repo.can_see(cast["doc2"], ada)
    assert not repo.can_see(admin, ada), "assigning shows the admin nothing"
    assert ("Dr Two", "Ada Example") in [(a[1], a[3]) for a in repo.assignments(admin)]
    with pytest.raises(ValueError, match="not an active clinician"):
        repo.grant_clinician(admin, ada, cast["carer_id"])
    assert repo.revoke_clinician(admin, ada, cast["doc2_id"])
    assert not repo.can_see(cast["doc2"], ada)
    assert actions(repo, ada) == ["care_team.assign", "care_team.remove"]
    event = last_event(repo, ada, "care_team.assign")
    assert event.actor_role == "admin" and "doc2@example.org" in event.detail["clinician"]


# --- admins and break-glass -------------------------------------------------------------


def test_admin_sees_nothing_without_break_glass(repo, cast):
    admin, ada = cast["admin"], cast["ada"]
    assert not repo.can_see(admin, ada)
    assert repo.list_patients(admin) == []
    with pytest.raises(AccessDenied):
        repo.patient(admin, ada)
    with pytest.raises(AccessDenied):
        repo.notes(admin, ada)
    # the directory to pick a patient from holds names only
    assert (ada, "Ada Example") in repo.patient_directory(admin)
    with pytest.raises(AccessDenied):
        repo.patient_directory(cast["doc"])


def test_break_glass_reads_read_only_until_ended(repo, cast):
    admin, ada = cast["admin"], cast["ada"]
    session = repo.start_break_glass(admin, ada, "Patient unreachable, clinic asked for a check",
                                     minutes=30)
    assert session.expires_ts - session.started_ts == 30 * 60
    assert repo.can_see(admin, ada) and not repo.can_change(admin, ada)
    assert not repo.can_see(admin, cast["ben"]), "one patient only"
    assert [p.name for p in repo.list_patients(admin)] == ["Ada Example"]
    assert repo.patient(admin, ada).name == "Ada Example"
    reads = repo.audit_events(SYSTEM, patient_id=ada, actor_id=cast["admin_id"], action="read")
    assert reads, "a read during break-glass is audited (the read hook in authorize)"
    assert repo.break_glass_session(admin, ada).id == session.id
    assert [b.id for b in repo.break_glass_sessions(admin)] == [session.id]
    assert [b.admin_name for b in repo.break_glass_for_patient(cast["patient"], ada)] == ["Admin"]
    with pytest.raises(AccessDenied):
        repo.add_note(admin, ada, now_ts(), "admin note")
    with pytest.raises(AccessDenied):
        repo.mark_reviewed(admin, ada)
    with pytest.raises(AccessDenied):
        repo.save_report(admin, ada, 0, 1, 1, b"%PDF")
    with pytest.raises(AccessDenied):
        repo.create_job(admin, ada, "apple_health", "export.zip", "/tmp/x", 10)
    with pytest.raises(KeyError):
        repo.end_break_glass(Principal(cast["admin_id"] + 100, "admin"), session.id)
    assert repo.end_break_glass(admin, session.id)
    assert not repo.can_see(admin, ada)
    assert repo.list_patients(admin) == []
    assert repo.break_glass_sessions(admin) == []
    assert not repo.end_break_glass(admin, session.id)
    assert actions(repo, ada) == ["break_glass.start", "break_glass.end"]
    start = last_event(repo, ada, "break_glass.start")
    assert start.actor_id == cast["admin_id"]
    assert start.detail["reason"] == "Patient unreachable, clinic asked for a check"
    assert start.detail["minutes"] == 30 and start.detail["patient"] == "Ada Example"


def test_break_glass_expires(repo, cast):
    admin, ada = cast["admin"], cast["ada"]
    session = repo.start_break_glass(admin, ada, "Emergency department request")
    assert session.expires_ts - session.started_ts == 30 * 60, "30 minutes by default"
    assert repo.can_see(admin, ada)
    expire(repo, s.break_glass, session.id)
    assert not repo.can_see(admin, ada)
    assert repo.list_patients(admin) == []
    assert repo.break_glass_session(admin, ada) is None


@pytest.mark.parametrize("reason,minutes,message", [
    ("too short", 30, "at least 10 characters"),
    ("          x        ", 30, "at least 10 characters"),
    ("A perfectly good reason", 0, "between 1 and 240"),
    ("A perfectly good reason", 241, "between 1 and 240"),
    ("A perfectly good reason", "soon", "whole number"),
])
def test_break_glass_needs_a_reason_and_a_bounded_duration(repo, cast, reason, minutes,
                                                           message):
    with pytest.raises(ValueError, match=message):
        repo.start_break_glass(cast["admin"], cast["ada"], reason, minutes)
    assert not repo.can_see(cast["admin"], cast["ada"])
    assert actions(repo, cast["ada"]) == []


def test_only_admins_break_glass(repo, cast):
    for who in ("doc", "carer", "patient"):
        with pytest.raises(AccessDenied):
            repo.start_break_glass(cast[who], cast["ada"], "A perfectly good reason")
    assert repo.start_break_glass(cast["admin"], cast["ada"], "A perfectly good reason", 240)


# --- users and roles ---------------------------------------------------------------------


def test_an_admin_changes_roles_and_deactivates_accounts(repo, cast):
    admin = cast["admin"]
    emails = [u.email for u in repo.list_users(admin)]
    assert emails == sorted(emails) and "carl.carer@example.org" in emails
    assert repo.set_role(admin, cast["doc2_id"], "caregiver")
    assert repo.user_by_id(cast["doc2_id"]).role == "caregiver"
    assert not repo.set_role(admin, cast["doc2_id"], "caregiver")
    with pytest.raises(ValueError, match="unknown role"):
        repo.set_role(admin, cast["doc2_id"], "system")
    with pytest.raises(ValueError, match="own role"):
        repo.set_role(admin, cast["admin_id"], "patient")
    assert repo.set_active(admin, cast["carer_id"], False)
    assert not repo.user_by_id(cast["carer_id"]).active
    assert repo.set_active(admin, cast["carer_id"], True)
    with pytest.raises(ValueError, match="own account"):
        repo.set_active(admin, cast["admin_id"], False)
    for who in ("doc", "patient", "carer"):
        with pytest.raises(AccessDenied):
            repo.set_role(cast[who], cast["doc2_id"], "admin")
        with pytest.raises(AccessDenied):
            repo.list_users(cast[who])
    events = repo.audit_events(SYSTEM, actor_id=cast["admin_id"])
    assert [e.action for e in reversed(events)] == ["user.role", "user.deactivate",
                                                   "user.activate"]
    assert events[-1].detail["from"] == "clinician" and events[-1].detail["to"] == "caregiver"


def test_audit_events_roll_back_with_a_refused_change(repo, cast):
    """The event is written in the change's transaction: a failed grant leaves neither."""
    with pytest.raises(KeyError):
        repo.grant_clinician(cast["admin"], 999_999, cast["doc_id"])
    with pytest.raises(KeyError):
        repo.start_break_glass(cast["admin"], 999_999, "A perfectly good reason")
    assert repo.audit_events(SYSTEM, patient_id=999_999) == []
    assert repo.verify_audit().ok


# --- the command line ---------------------------------------------------------------------


def test_create_user_makes_a_caregiver(tmp_path):
    from tests.integration.test_cli import healthdash

    assert healthdash(tmp_path, "init-db").returncode == 0
    result = healthdash(tmp_path, "create-user", "carer@example.org", "--role", "caregiver",
                        "--name", "Carl", "--password-stdin", stdin="long enough pw\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["user id: 1"], "a caregiver gets no patient record"
    from data.db import make_engine

    user = Repository(make_engine(f"sqlite:///{tmp_path / 'healthdash.db'}")).user_by_email(
        "carer@example.org")
    assert user is not None and user.role == "caregiver"


# --- over HTTP (Flask test client, SQLite) ------------------------------------------------


def _callback(output_ids: list[tuple[str, str]], inputs: list, state: list) -> dict:
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in output_ids) + "..",
        "outputs": [{"id": i, "property": p} for i, p in output_ids],
        "inputs": inputs, "state": state, "changedPropIds": [],
    }


def _add_note(patient_id: int) -> dict:
    body = _callback(
        [("clin-notes-version", "data"), ("clin-note-status", "children"),
         ("clin-note-text", "value")],
        [{"id": "clin-note-add", "property": "n_clicks", "value": 1}],
        [{"id": "clin-note-when", "property": "value", "value": None},
         {"id": "clin-note-text", "property": "value", "value": "a caregiver's note"},
         {"id": "clin-notes-version", "property": "data", "value": 0},
         {"id": "patient-store", "property": "data", "value": patient_id}])
    body["changedPropIds"] = ["clin-note-add.n_clicks"]
    return body


def test_over_http_a_caregiver_reads_until_revoked_and_never_writes(world):
    from auth.passwords import hash_password
    from tests.integration.conftest import PASSWORD, login, panel_callback

    repo, a = world.repo, world.patient_a
    carer = repo.create_user("carl.carer@example.org", "Carl", "caregiver",
                             hash_password(PASSWORD))
    ada = repo.principal_for(repo.user_by_email("ada@example.org"))
    token = repo.invite_caregiver(ada, a, "carl.carer@example.org")
    client = world.app.server.test_client()
    login(client, "carl.carer@example.org")
    assert client.post("/_dash-update-component", json=panel_callback(a)).status_code == 403
    accept = _callback([("accept-status", "children"), ("accept-button", "disabled")],
                       [{"id": "accept-button", "property": "n_clicks", "value": 1}],
                       [{"id": "accept-token", "property": "data", "value": token}])
    response = client.post("/_dash-update-component", json=accept)
    assert response.status_code == 200 and "Ada Lovelace-Example" in response.get_data(
        as_text=True)
    assert client.post("/_dash-update-component", json=panel_callback(a)).status_code == 200
    assert client.post("/_dash-update-component", json=_add_note(a)).status_code == 403
    assert repo.notes(SYSTEM, a) == []
    assert client.post("/_dash-update-component",
                       json=panel_callback(world.patient_b)).status_code == 403
    # the sharing page's callbacks belong to patients
    lists = _callback([("caregiver-list", "children"), ("pending-list", "children"),
                       ("clinician-list", "children"), ("break-glass-seen", "children")],
                      [{"id": "sharing-version", "property": "data", "value": 0}], [])
    assert client.post("/_dash-update-component", json=lists).status_code == 403
    repo.revoke_caregiver(ada, a, carer)
    assert client.post("/_dash-update-component", json=panel_callback(a)).status_code == 403
    # Ada sees her own sharing lists
    own = world.app.server.test_client()
    login(own, "ada@example.org")
    response = own.post("/_dash-update-component", json=lists)
    assert response.status_code == 200 and "No caregivers." in response.get_data(as_text=True)
