"""Secrets Dialtone must read back (TOTP seeds), sealed at rest with a stage key.

A password or an API key is stored as a hash; a TOTP seed cannot be, since
verifying a code needs the seed itself. So it is stored sealed: AES-256-GCM
with a random 96-bit nonce, as ``sealed:v1:<key id>:<base64url(nonce, ciphertext and tag)>``.
The key is derived from the stage secret ``TOTP_SEALING_KEY`` (adapters/parameters.py:
the SSM SecureString named by ``TOTP_SEALING_KEY_PARAMETER`` on deployed stages,
a fixed development key on the local and test stages). The key id (8 hex digits of
the key's SHA-256) makes a value sealed under another key fail loudly rather than
read as a wrong seed.

Values stored before sealing existed are plain base32 seeds: ``unseal`` still
reads them and ``is_sealed`` tells them apart, so they are sealed on their next
use (services/identity/users.py) or all at once (admin ``seal-totp-secrets``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

PREFIX = "sealed:v1:"
_PURPOSE = b"dialtone totp secret"  # associated data: a sealed value is good for this use only


class SealingError(Exception):
    """A sealed value that this stage's key cannot open."""


def _key() -> bytes:
    from chalicelib import settings
    from chalicelib.adapters import parameters

    secret = parameters.secret("TOTP_SEALING_KEY")
    if not secret:
        if settings.stage() not in ("local", "test"):
            raise RuntimeError("TOTP_SEALING_KEY (or TOTP_SEALING_KEY_PARAMETER) is required on deployed stages")
        secret = "dialtone-local-totp-sealing-key"
    # The stage secret is high-entropy text; one HMAC turns it into a 256-bit key of its own.
    return hmac.new(secret.encode("utf-8"), b"dialtone/sealing/totp/v1", hashlib.sha256).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and str(stored).startswith(PREFIX)


def seal(plain: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only where a seed is made or read

    key = _key()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain.encode("utf-8"), _PURPOSE)
    return f"{PREFIX}{_key_id(key)}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def unseal(stored: str | None) -> str | None:
    """The plain seed: opened when sealed, as stored when from before sealing, None for None."""
    if not stored or not is_sealed(stored):
        return stored or None
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = _key()
    key_id, _, data = stored[len(PREFIX):].partition(":")
    if key_id != _key_id(key):
        raise SealingError(f"sealed under key {key_id}, this stage's is {_key_id(key)}")
    raw = base64.urlsafe_b64decode(data)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _PURPOSE).decode("utf-8")
    except InvalidTag:
        raise SealingError("a sealed value failed authentication") from None
