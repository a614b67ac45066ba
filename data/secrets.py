"""Secrets at rest: Fernet encryption under a key ring (newest key first).

`SECRET_KEYS` holds comma-separated Fernet keys. The first encrypts; every key decrypts, so a
new key is added in front, `healthdash rotate-key` re-encrypts the stored secrets under it,
and the old key can then be dropped. Without `SECRET_KEYS` one key is derived from
`SECRET_KEY` with HKDF (logged at start-up): changing `SECRET_KEY` then makes every stored
secret unreadable, which is why production should set `SECRET_KEYS`.

Each plaintext is sealed together with the row it belongs to (owner, provider, name), so a
ciphertext copied into another row by someone with database access does not decrypt there.
"""

from __future__ import annotations

import base64
import json
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)
_HKDF_SALT = b"healthdash/secrets-at-rest"
_HKDF_INFO = b"fernet key 1"


class SecretUnreadable(ValueError):
    """A stored secret that no key of the ring opens, or that belongs to another row."""


def generate_key() -> str:
    """A fresh Fernet key, to put in front of `SECRET_KEYS`."""
    return Fernet.generate_key().decode("ascii")


def derived_key(secret_key: str) -> str:
    """The Fernet key derived from `SECRET_KEY` (HKDF-SHA256) when `SECRET_KEYS` is unset."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT,
               info=_HKDF_INFO).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw).decode("ascii")


class SecretBox:
    """Encrypts with the newest key, decrypts with any, re-encrypts under the newest."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        try:
            self._ring = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError(
                "SECRET_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes "
                "each; `healthdash rotate-key --new-key` prints one)") from exc
        self.size = len(keys)

    @classmethod
    def from_settings(cls, secret_keys: str | None, secret_key: str) -> SecretBox:
        """The ring from `SECRET_KEYS`, else one key derived from `SECRET_KEY`."""
        keys = [k.strip() for k in (secret_keys or "").split(",") if k.strip()]
        if keys:
            return cls(keys)
        log.warning("SECRET_KEYS is not set: secrets at rest use a key derived from SECRET_KEY "
                    "(HKDF); set SECRET_KEYS so SECRET_KEY can change and keys can rotate")
        return cls([derived_key(secret_key)])

    def seal(self, value: str, context: list) -> str:
        """Ciphertext of `value` bound to `context` (the row it is stored in)."""
        body = json.dumps({"c": context, "v": value}, separators=(",", ":"))
        return self._ring.encrypt(body.encode("utf-8")).decode("ascii")

    def open(self, token: str, context: list) -> str:
        """The value sealed in `token`; SecretUnreadable when no key opens it or rows differ."""
        try:
            body = json.loads(self._ring.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError) as exc:
            raise SecretUnreadable(
                "no key in SECRET_KEYS opens this secret (was the key that wrote it removed?)"
            ) from exc
        if body.get("c") != context:
            raise SecretUnreadable("this ciphertext belongs to another secret")
        return body["v"]

    def rotate(self, token: str) -> str:
        """The same secret encrypted under the newest key (MultiFernet.rotate)."""
        try:
            return self._ring.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretUnreadable("no key in SECRET_KEYS opens this secret") from exc
