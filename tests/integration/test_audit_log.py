"""The audit log on SQLite and PostgreSQL: a hash chain that shows tampering."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from data.access import AccessDenied, Principal


def _events(repo, n: int = 5) -> None:
    doc = Principal(7, "clinician")
    for i in range(n):
        repo.record("read", actor=doc, actor_label="doc@example.org", patient_id=1,
                    target=f"callback:panel-{i}", detail={"range": "90d"}, ip="127.0.0.1")


def _without_guard(repo, sql: str) -> None:
    """What someone with the database's owner rights could do: drop the guard, then edit."""
    with repo.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            for event in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS audit_events_no_{event}"))
            conn.execute(text(sql))


def test_events_chain_and_verify(repo):
    _events(repo)
    check = repo.verify_audit()
    assert check.ok and check.events == 5
    events = repo.audit_events(Principal(1, "admin"), patient_id=1)
    assert [e.target for e in events] == [f"callback:panel-{i}" for i in range(4, -1, -1)]
    assert events[0].prev_hash == events[1].hash
    assert events[-1].detail == {"range": "90d"} and events[-1].actor == "doc@example.org"


def test_the_database_refuses_changes_and_deletes(repo):
    _events(repo, 2)
    for sql in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), repo.engine.begin() as conn:
            conn.execute(text(sql))
    assert repo.verify_audit().events == 2


@pytest.mark.parametrize("sql,problem", [
    ("UPDATE audit_events SET target = 'callback:nothing' WHERE id = 3", "was changed"),
    ("DELETE FROM audit_events WHERE id = 2", "missing"),
])
def test_verify_finds_a_changed_or_deleted_event(repo, sql, problem):
    _events(repo)
    _without_guard(repo, sql)
    check = repo.verify_audit()
    assert not check.ok
    assert problem in check.problem
    assert check.first_bad_id in (2, 3)


def test_only_admins_search_the_log(repo):
    _events(repo, 1)
    for role in ("patient", "clinician"):
        with pytest.raises(AccessDenied):
            repo.audit_events(Principal(1, role))
