"""The voice API's credentials: RS256 access tokens (JWT) and their keys.

- Keys: a JSON key set ``{"active": kid, "keys": [{"kid", "pem"}, ...]}``. On
  deployed stages it is the stage secret VOICE_JWT_KEYS (SSM SecureString
  /dialtone/<stage>/voice-jwt-keys, read by adapters' parameters.secret); on
  the local and test stages it is generated once and kept in the main table
  (store/voice/oauth.py), so every process of the runtime signs with the same key.
  Rotation (admin ``rotate-voice-keys``) makes a new key active and keeps the
  previous one for verification: two keys live, tokens signed by either verify.
- RS256, not EdDSA: every library the document names (jjwt 0.11 included)
  verifies RS256.
- Verification pins the algorithm (``none`` and HMAC-signed tokens never
  verify), requires every claim, checks iss, aud, exp (no leeway beyond 30 s of
  clock skew) and the kid against the live keys (RFC 8725). Then the user: it
  must exist and be active, and its password must be the one the token was
  issued under (claim ``pwv``: a fingerprint of the stored hash), so a password
  change ends every token issued before it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from typing import Any, Mapping

from chalicelib import clock, settings
from chalicelib.domain import identity
from chalicelib.domain.errors import AuthenticationError
from chalicelib.domain.identity import Principal

ALGORITHM = "RS256"
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 36000
AUDIENCE = "dialtone-voice"
LEEWAY_SECONDS = 30
KEY_CACHE_SECONDS = 600
# At most this often, a token naming a key this process does not know makes it
# read the key set again (so made-up kids cannot drive reads of the secret).
UNKNOWN_KID_RELOAD_SECONDS = 10
LOCAL_STAGES = ("local", "test")

_lock = threading.Lock()
_keys: dict[str, Any] = {}       # "at", "active", "private", "public" {kid: key}, "raw"
_users: dict[tuple[str, int], tuple[float, tuple[dict[str, Any], Principal, str]]] = {}
# Tokens this process has verified: token -> (exp, kid, tenant, user id, password version).
_verified: dict[str, tuple[int, str, str, int, str]] = {}
MAX_VERIFIED = 10_000


def issuer() -> str:
    return os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v1"


def jwks_url() -> str:
    return issuer() + "/oauth/jwks"


# ------------------------------------------------------------------ keys

def generate_key() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {"kid": uuid.uuid4().hex[:16], "pem": pem}


def rotated(raw: str | None) -> str:
    """The key set after a rotation: a new active key, the previous active one
    kept for verification, any older one dropped."""
    current = json.loads(raw) if raw else {"keys": []}
    previous = [k for k in current["keys"] if k["kid"] == current.get("active")]
    new = generate_key()
    return json.dumps({"active": new["kid"], "keys": [new, *previous]})


def _raw_key_set() -> str:
    from chalicelib.adapters import parameters

    found = parameters.secret("VOICE_JWT_KEYS")
    if found:
        return found
    if settings.stage() not in LOCAL_STAGES:
        raise RuntimeError("VOICE_JWT_KEYS (or VOICE_JWT_KEYS_PARAMETER) is not configured for this stage")
    from chalicelib.store.voice import oauth as store

    stored = store.stored_signing_keys()
    if stored:
        return stored
    fresh = rotated(None)
    if store.store_signing_keys(fresh, previous=None):
        return fresh
    return store.stored_signing_keys() or fresh  # another process generated them first


def _key_set(*, reload: bool = False) -> dict[str, Any]:
    """The stage's key set, read at most every KEY_CACHE_SECONDS; ``reload``
    reads it again now unless it was read in the last UNKNOWN_KID_RELOAD_SECONDS."""
    now = time.monotonic()

    def fresh_enough() -> bool:
        if not _keys or _keys["at"] <= now:
            return False
        return not reload or _keys["loaded"] + UNKNOWN_KID_RELOAD_SECONDS > now

    if fresh_enough():
        return _keys
    with _lock:
        if fresh_enough():
            return _keys
        from cryptography.hazmat.primitives import serialization

        raw = _raw_key_set()
        parsed = json.loads(raw)
        private = {k["kid"]: serialization.load_pem_private_key(k["pem"].encode(), password=None)
                   for k in parsed["keys"]}
        _keys.clear()
        _keys.update(at=now + KEY_CACHE_SECONDS, loaded=now, active=parsed["active"], private=private,
                     public={kid: key.public_key() for kid, key in private.items()}, raw=raw)
        return _keys


def _public_key(kid: str) -> Any:
    """The public key ``kid`` names. A kid this process does not know may have
    been rotated in by another process (``rotate-voice-keys`` makes the new key
    active at once): the key set is read again before the token is refused."""
    found = _key_set()["public"].get(kid)
    if found is None:
        found = _key_set(reload=True)["public"].get(kid)
    return found


def forget_keys() -> None:
    """Drop the key set and the tokens verified with it (tests that replace the stage's storage)."""
    with _lock:
        _keys.clear()
        _verified.clear()


def jwks() -> dict[str, Any]:
    """The public keys as a JWK Set (RFC 7517), the active one first."""
    found = _key_set()
    ordered = sorted(found["public"].items(), key=lambda kv: kv[0] != found["active"])
    return {"keys": [{"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid,
                      "n": _b64_int(key.public_numbers().n), "e": _b64_int(key.public_numbers().e)}
                     for kid, key in ordered]}


def _b64_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# ------------------------------------------------------------------ tokens

def password_version(user: Mapping[str, Any]) -> str:
    # A fingerprint of the stored scrypt hash (itself salted): changes with the password.
    return hashlib.sha256(str(user.get("passwordHash") or "").encode()).hexdigest()[:16]


def issue(*, tenant: str, user: Mapping[str, Any], now: int | None = None) -> str:
    import jwt

    from chalicelib.domain import voice

    keys_now = _key_set()
    issued = clock.epoch() if now is None else now
    claims = {
        "iss": issuer(), "aud": AUDIENCE, "sub": voice.opaque_id(tenant, "USER", int(user["id"]), uuid=True),
        "iat": issued, "nbf": issued, "exp": issued + ACCESS_SECONDS, "jti": uuid.uuid4().hex,
        "tenant": tenant, "preferred_username": user["username"],
        "realm_access": {"roles": sorted(user.get("roles") or [])},
        "typ": "Bearer", "pwv": password_version(user),
    }
    return jwt.encode(claims, keys_now["private"][keys_now["active"]], algorithm=ALGORITHM,
                      headers={"kid": keys_now["active"], "typ": "JWT"})


def verify(token: str) -> dict[str, Any]:
    """The token's claims after every cryptographic and claim check; AuthenticationError otherwise."""
    import jwt

    header = _header(token)
    if header.get("alg") != ALGORITHM:
        raise AuthenticationError("the access token is not RS256-signed")
    key = _public_key(str(header.get("kid")))
    if key is None:
        raise AuthenticationError("the access token was signed by an unknown key")
    try:
        # The times are checked below against the project clock (chalicelib/clock.py), the one
        # clock issue() stamps them with; PyJWT would read the system clock.
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=issuer(),
                            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "tenant", "pwv"],
                                     "verify_exp": False, "verify_nbf": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise AuthenticationError("the access token is not valid") from None
    _check_times(claims)
    if claims.get("typ") != "Bearer":
        raise AuthenticationError("this is not an access token")
    return claims


def _check_times(claims: Mapping[str, Any]) -> None:
    """exp, iat and nbf (when given) against the project clock, with LEEWAY_SECONDS of skew."""
    now = clock.epoch()
    try:
        expires, issued = int(claims["exp"]), int(claims["iat"])
        not_before = int(claims.get("nbf", issued))
    except (TypeError, ValueError):
        raise AuthenticationError("the access token is not valid") from None
    if expires + LEEWAY_SECONDS <= now:
        raise AuthenticationError("the access token has expired")
    if min(issued, not_before) - LEEWAY_SECONDS > now:
        raise AuthenticationError("the access token is not valid yet")


def _header(token: str) -> dict[str, Any]:
    # Only the header segment: PyJWT's get_unverified_header decodes (and
    # character-checks) the whole token, which jwt.decode then does again.
    try:
        segment = token.split(".", 1)[0]
        parsed = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        raise AuthenticationError("the access token is malformed") from None
    if not isinstance(parsed, dict):
        raise AuthenticationError("the access token is malformed")
    return parsed


def authenticate(header: str | None) -> Principal:
    """``Authorization: Bearer <JWT>`` -> the Principal of an active user."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 8192:
        raise AuthenticationError("an Authorization: Bearer access token is required")
    tenant, user_id, pwv = _verified_subject(token)
    cached = _user(tenant, user_id)
    if cached is None:
        raise AuthenticationError("the access token is no longer valid")
    user, principal, current_pwv = cached
    if not user.get("active", True) or user.get("apiOnly") or current_pwv != pwv:
        raise AuthenticationError("the access token is no longer valid")
    return principal


def _verified_subject(token: str) -> tuple[str, int, str]:
    """(tenant, user id, password version) of a token that verifies.

    A client sends the same token on every request for up to an hour, so this
    process remembers the tokens it has verified (the exact string) until they
    expire, and skips the signature and claim checks for them: it is those
    checks, not the user read, that made a JWT request dearer than an API
    key's (whose resolved key is cached the same way). The user checks still
    run on every request. A remembered token is dropped, and checked again in
    full, once it has expired or its key is no longer live (rotation)."""
    entry = _verified.get(token)
    if entry is not None:
        expires, kid, tenant, user_id, pwv = entry
        if clock.epoch() < expires + LEEWAY_SECONDS and kid in _key_set()["public"]:
            return tenant, user_id, pwv
        with _lock:
            _verified.pop(token, None)
    claims = verify(token)
    from chalicelib.domain import voice

    tenant = str(claims["tenant"])
    parsed = voice.parse_opaque_id(tenant, "USER", claims["sub"], uuid=True)
    if parsed is None:
        raise AuthenticationError("the access token names no user")
    user_id, pwv = parsed, str(claims["pwv"])
    with _lock:
        if len(_verified) >= MAX_VERIFIED:
            _verified.clear()
        _verified[token] = (int(claims["exp"]), str(_header(token)["kid"]), tenant, user_id, pwv)
    return tenant, user_id, pwv


def _user(tenant: str, user_id: int) -> tuple[dict[str, Any], Principal, str] | None:
    """The user, its Principal and its password version, trusted by this process
    for AUTH_CACHE_SECONDS (as API keys are): a disabled user or a new password
    takes effect within that time."""
    now = time.monotonic()
    cached = _users.get((tenant, user_id))
    if cached is not None and cached[0] > now:
        return cached[1]
    from chalicelib.store.dynamo import entities
    from chalicelib.store.dynamo.schema import USER

    user = entities.get_one(USER, tenant, user_id)
    if user is None:
        return None
    found = (user, identity.principal_from_user(user, tenant), password_version(user))
    with _lock:
        if len(_users) > 10_000:
            _users.clear()
        _users[(tenant, user_id)] = (now + settings.auth_cache_seconds(), found)
    return found


def forget_users() -> None:
    with _lock:
        _users.clear()
        _verified.clear()


def new_refresh_token() -> tuple[str, str]:
    """(token, its SHA-256): the token is shown once, only the hash is stored."""
    token = "rt." + secrets.token_urlsafe(32)
    return token, refresh_hash(token)


def refresh_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_keys() -> dict[str, Any]:
    """A new active signing key; the previous one stays live for verification.
    Local and test stages: the stored key set; deployed stages: the SSM parameter.
    Processes pick the new set up within KEY_CACHE_SECONDS."""
    from chalicelib.adapters import parameters

    if settings.stage() in LOCAL_STAGES and not os.environ.get("VOICE_JWT_KEYS_PARAMETER"):
        from chalicelib.store.voice import oauth as store

        for _ in range(5):
            current = store.stored_signing_keys() or _raw_key_set()
            fresh = rotated(current)
            if store.store_signing_keys(fresh, previous=current):
                break
        else:
            raise RuntimeError("the key set kept changing; try again")
        where = "main table"
    else:
        fresh = rotated(_parameter_key_set())
        where = parameters.put_secret("VOICE_JWT_KEYS", fresh)
    forget_keys()
    parsed = json.loads(fresh)
    return {"active": parsed["active"], "live": [k["kid"] for k in parsed["keys"]], "stored": where}


def _parameter_key_set() -> str | None:
    """The key set in the stage's SSM parameter; None (an empty set) before the
    stage's first rotation has created the parameter (docs/deploy.md)."""
    from chalicelib.adapters import parameters
    from chalicelib.store.clients import client

    try:
        return parameters.secret("VOICE_JWT_KEYS")
    except client("ssm").exceptions.ParameterNotFound:
        return None
