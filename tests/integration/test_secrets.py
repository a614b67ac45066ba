"""Secrets at rest: encrypted in the database, readable through a key change, rotatable."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, update

from cli import main as cli_main
from data import schema as s
from data.migrate import upgrade
from data.repository import Repository
from data.secrets import SecretBox, SecretUnreadable, derived_key, generate_key

TOKEN = "withings-refresh-token-0123456789"


def _owner(repo: Repository) -> tuple[int, int]:
    user = repo.create_user("p@example.org", "P", "patient", None)
    return user, repo.create_patient("P", "UTC", user_id=user)


def _stored(repo: Repository) -> list[str]:
    with repo.engine.connect() as conn:
        return list(conn.execute(select(s.secrets.c.ciphertext)).scalars())


def test_put_get_delete_and_nothing_in_clear(repo: Repository):
    repo.configure_secrets(SecretBox([generate_key()]))
    user, patient = _owner(repo)
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) is None
    repo.put_secret("withings", "refresh_token", TOKEN, patient_id=patient)
    repo.put_secret("withings", "refresh_token", TOKEN + "-2", patient_id=patient)  # replaces
    repo.put_secret("github", "token", "user-owned", user_id=user)
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) == TOKEN + "-2"
    assert repo.get_secret("github", "token", user_id=user) == "user-owned"
    assert repo.get_secret("withings", "refresh_token", user_id=user) is None  # other owner
    stored = _stored(repo)
    assert len(stored) == 2
    assert not any("withings" in c or "user-owned" in c for c in stored)
    assert repo.delete_secret("withings", "refresh_token", patient_id=patient)
    assert not repo.delete_secret("withings", "refresh_token", patient_id=patient)
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) is None
    with pytest.raises(ValueError):
        repo.put_secret("withings", "x", "y")  # no owner


def test_old_key_reads_after_new_key_and_not_after_rotation(repo: Repository):
    old, new = generate_key(), generate_key()
    repo.configure_secrets(SecretBox([old]))
    _, patient = _owner(repo)
    repo.put_secret("withings", "refresh_token", TOKEN, patient_id=patient)
    repo.put_secret("withings", "access_token", "short-lived", patient_id=patient)

    repo.configure_secrets(SecretBox([new, old]))  # a new key in front: old secrets still read
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) == TOKEN
    before = _stored(repo)
    assert repo.rotate_secrets() == 2
    assert set(_stored(repo)).isdisjoint(before)
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) == TOKEN

    repo.configure_secrets(SecretBox([old]))  # the old key alone no longer opens them
    with pytest.raises(SecretUnreadable):
        repo.get_secret("withings", "refresh_token", patient_id=patient)
    repo.configure_secrets(SecretBox([new]))  # the new key alone does
    assert repo.get_secret("withings", "access_token", patient_id=patient) == "short-lived"


def test_ciphertext_moved_to_another_row_does_not_open(repo: Repository):
    repo.configure_secrets(SecretBox([generate_key()]))
    _, patient = _owner(repo)
    other = repo.create_patient("Q", "UTC")
    repo.put_secret("withings", "refresh_token", TOKEN, patient_id=patient)
    repo.put_secret("withings", "refresh_token", "theirs", patient_id=other)
    t = s.secrets
    with repo.engine.begin() as conn:
        mine = conn.execute(select(t.c.ciphertext).where(t.c.patient_id == patient)).scalar()
        conn.execute(update(t).where(t.c.patient_id == other).values(ciphertext=mine))
    with pytest.raises(SecretUnreadable, match="another secret"):
        repo.get_secret("withings", "refresh_token", patient_id=other)


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_keys_from_settings():
    lines = _Lines()
    logger = logging.getLogger("data.secrets")
    logger.addHandler(lines)
    try:
        derived = SecretBox.from_settings(None, "the flask secret")
    finally:
        logger.removeHandler(lines)
    assert any("SECRET_KEYS is not set" in line for line in lines.lines)
    same = SecretBox([derived_key("the flask secret")])
    assert same.open(derived.seal("v", [1]), [1]) == "v"
    ring = SecretBox.from_settings(f" {generate_key()} , {generate_key()} ", "x")
    assert ring.size == 2
    with pytest.raises(ValueError, match="Fernet keys"):
        SecretBox.from_settings("not-a-key", "x")


def test_cli_rotate_key(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEYS", old)
    from data.db import make_engine
    from settings import get_settings

    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    repo = Repository(engine)
    repo.configure_secrets(SecretBox([old]))
    _, patient = _owner(repo)
    repo.put_secret("withings", "refresh_token", TOKEN, patient_id=patient)
    try:
        assert cli_main(["rotate-key", "--new-key"]) == 0
        printed = capsys.readouterr().out.strip().splitlines()[0]
        SecretBox([printed])  # a valid Fernet key
        monkeypatch.setenv("SECRET_KEYS", f"{new},{old}")
        get_settings.cache_clear()
        assert cli_main(["rotate-key"]) == 0
        assert "re-encrypted 1 secret" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    repo.configure_secrets(SecretBox([new]))
    assert repo.get_secret("withings", "refresh_token", patient_id=patient) == TOKEN
    engine.dispose()
