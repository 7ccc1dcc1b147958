"""Password hashing, API keys and TOTP: what is stored is never the secret.

- Passwords: scrypt (stdlib, memory-hard, salted; OWASP-listed), encoded with
  its parameters so the cost can be raised later without breaking old hashes.
- API keys: 32 random bytes behind a recognisable prefix; stored as SHA-256,
  which is right for a high-entropy secret (a slow hash protects guessable ones).
- Digest HA1 values are derived when a password is set (HTTP Digest cannot
  work from a one-way password hash).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from chalicelib import clock, settings

API_KEY_PREFIX = "dtk_"
DIGEST_REALM = "dialtone"


def hash_password(password: str) -> str:
    log2n = settings.password_hash_cost()
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, log2n)
    return f"scrypt${log2n}$8$1${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    if not encoded or not password:
        return False
    try:
        scheme, log2n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt" or (r, p) != ("8", "1"):
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(log2n))
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(expected))


def _scrypt(password: str, salt: bytes, log2n: int) -> bytes:
    n = 1 << log2n
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=256 * n * 8 + 2**20, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def new_password() -> str:
    return secrets.token_urlsafe(18)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(key: str) -> bool:
    return key.startswith(API_KEY_PREFIX) and 20 < len(key) < 100


def digest_ha1(username: str, password: str) -> dict[str, str]:
    material = f"{username}:{DIGEST_REALM}:{password}".encode()
    return {"md5": hashlib.md5(material).hexdigest(), "sha256": hashlib.sha256(material).hexdigest()}


def new_totp_secret() -> str:
    import pyotp  # not on the request path of reads: imported when needed

    return pyotp.random_base32()


def totp_step(secret: str | None, code: str | None, *, at: float | None = None) -> int | None:
    """The time-step (30 s counter) a valid code belongs to, accepting the
    current step and one either side for clock drift; None if it is not valid.
    The caller refuses a step at or below the last one it accepted (replay)."""
    if not secret or not code:
        return None
    import pyotp

    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock.epoch() if at is None else at)
    given = code.strip()
    found = None
    for step in (current - 1, current, current + 1):  # every step compared: no early exit to time
        if hmac.compare_digest(given, totp.generate_otp(step)):
            found = step  # the latest matching step wins: a collision never lowers the bar
    return found


def verify_totp(secret: str | None, code: str) -> bool:
    return totp_step(secret, code) is not None
