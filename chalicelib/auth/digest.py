"""HTTP Digest (RFC 7616) for the call-tracking API, resolved to a Principal.

- Two challenges, SHA-256 first then MD5, with the same realm, nonce and
  opaque, each naming its ``algorithm``: curl answers the first it can,
  Python ``requests`` merges them (the last value of each parameter wins, so
  it answers MD5 with the same nonce). ``qop="auth"`` only.
- Verified against the HA1 values stored when the password was set
  (``digestHa1`` of the user, realm ``dialtone``): the password is never stored.
- Nonces are stateless: ``<issue time>.<random>.<HMAC>`` under the stage's
  secret, so any function instance can check one. After NONCE_SECONDS a nonce
  is stale: a request that is right in every other way gets 401 with
  ``stale=true`` and clients retry at once without asking the user.
- A ``(nonce, nc)`` pair is accepted once: a conditional PutItem of a claim
  item (TTL) that two concurrent functions cannot both win.
- Unknown user, wrong password, disabled user, no read permission, replay:
  the same 401 and a fresh challenge; an unknown user is checked against a
  dummy HA1 and costs the same reads, so neither body nor timing tells them
  apart. The IP allow-list applies on top, against the gateway's sourceIp.
- Failed sign-ins count with the portal's and the voice API's (auth/attempts.py):
  past the limit of the username or the address, 429 with Retry-After. A
  request from outside the user's (non-empty) allow-list is 401 whatever its
  password and counts against its address only, never the user's lock.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets as _random
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

from chalicelib import clock, settings
from chalicelib.auth import attempts
from chalicelib.auth.hashing import DIGEST_REALM
from chalicelib.domain import identity
from chalicelib.domain.errors import AuthenticationError, SourceNotAllowedError
from chalicelib.domain.identity import Principal

REALM = DIGEST_REALM
ALGORITHMS = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}
HA1_KEYS = {"SHA-256": "sha256", "MD5": "md5"}
_DUMMY_HA1 = {"sha256": "0" * 64, "md5": "0" * 32}


def nonce_seconds() -> int:
    """How long a nonce is fresh; a stale one is answered with stale=true."""
    return int(os.environ.get("DIGEST_NONCE_SECONDS", "300"))


class DigestChallengeError(AuthenticationError):
    """401 with a fresh challenge; ``stale``: only the nonce was too old."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale


class DigestSourceNotAllowedError(SourceNotAllowedError):
    """Right credentials from an address outside the user's allow-list."""


def _secret() -> bytes:
    from chalicelib.adapters import parameters

    value = parameters.secret("DIGEST_NONCE_SECRET") or parameters.secret("LINK_SIGNING_SECRET")
    if not value:
        if settings.stage() in ("local", "test"):
            value = "dialtone-local-digest-secret"
        else:
            raise RuntimeError("DIGEST_NONCE_SECRET (or LINK_SIGNING_SECRET) is required on deployed stages")
    return value.encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_nonce(now: float | None = None) -> str:
    issued = int(clock.epoch() if now is None else now)
    body = struct.pack(">Q", issued) + _random.token_bytes(12)
    mac = hmac.new(_secret(), b"nonce:" + body, hashlib.sha256).digest()[:16]
    return _b64(body + mac)


def nonce_issued(nonce: str) -> int | None:
    """The issue time of a nonce we signed; None for anything else."""
    try:
        raw = _unb64(nonce)
    except (ValueError, TypeError):
        return None
    if len(raw) != 36:
        return None
    body, mac = raw[:20], raw[20:]
    expected = hmac.new(_secret(), b"nonce:" + body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    return int(struct.unpack(">Q", body[:8])[0])


def opaque() -> str:
    return hmac.new(_secret(), b"opaque:" + REALM.encode(), hashlib.sha256).hexdigest()[:32]


def challenges(*, stale: bool = False) -> list[str]:
    """The WWW-Authenticate values, SHA-256 first; one nonce for both."""
    nonce, tail = new_nonce(), ', stale=true' if stale else ""
    return [f'Digest realm="{REALM}", qop="auth", algorithm={name}, nonce="{nonce}", opaque="{opaque()}"{tail}'
            for name in ALGORITHMS]


def parse_authorization(header: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` Authorization header (quoted strings
    with backslash escapes, or tokens), names lower-cased; None if not Digest."""
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        start = i
        while i < n and rest[i] not in "=, \t":
            i += 1
        name = rest[start:i].strip().lower()
        while i < n and rest[i] in " \t":
            i += 1
        if i >= n or rest[i] != "=":
            if name:
                return None
            break
        i += 1
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':
            i += 1
            value = []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(rest[i])
                i += 1
            if i >= n:
                return None
            i += 1
            params[name] = "".join(value)
        else:
            start = i
            while i < n and rest[i] not in ", \t":
                i += 1
            params[name] = rest[start:i]
    return params


@dataclass(frozen=True)
class _Account:
    tenant: str
    principal: Principal | None
    ha1: dict[str, str]
    allowlist: tuple[str, ...]
    usable: bool
    locked_until: int | None = None  # auth/attempts.py: too many failed sign-ins


_cache: dict[str, tuple[float, _Account | None]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


def _account(username: str) -> _Account | None:
    """The user's Digest material, trusted for AUTH_CACHE_SECONDS by this
    process (as API keys are): a warm function then reads nothing for it."""
    now = time.monotonic()
    cached = _cache.get(username)
    if cached is not None and cached[0] >= now:
        return cached[1]
    from chalicelib.store.tracking import digest as store

    found = store.digest_user(username)
    account = None
    if found is not None:
        tenant, user = found
        ha1 = user.get("digestHa1") or {}
        usable = bool(ha1) and bool(user.get("active", True)) and bool(user.get("canRead"))
        account = _Account(tenant=tenant, principal=identity.principal_from_user(user, tenant) if usable else None,
                           ha1=dict(ha1), allowlist=tuple(user.get("ipAllowlist") or ()), usable=usable,
                           locked_until=user.get("signInLockedUntil"))
    # Unknown names are remembered too: an unknown user and a wrong password
    # cost the same reads (none, while cached).
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[username] = (now + settings.auth_cache_seconds(), account)
    return account


def forget(username: str | None = None) -> None:
    with _lock:
        if username is None:
            _cache.clear()
        else:
            _cache.pop(username, None)


def _query_pairs(query: str, *, plus_is_space: bool) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        if plus_is_space:
            name, value = name.replace("+", " "), value.replace("+", " ")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return sorted(pairs)


def uri_matches(uri: str, *, path: str, query: Sequence[tuple[str, str]], stage: str | None = None) -> bool:
    """The digest's ``uri`` is this request's whole request-target: its path
    (the path API Gateway reports, ``requestContext.path``) and its query.

    API Gateway hands the function the query decoded, name by name, never the
    raw string, so the query is compared as the multiset of its decoded
    pairs (order aside: a gateway does not keep it); ``+`` is read as a space
    or as itself, as gateways differ there. The one difference of path
    allowed is the stage's prefix (``/api`` on an execute-api URL), on either
    side; nothing else: a ``uri`` naming another path or another query (a
    captured header replayed against other parameters) is refused."""
    if "://" in uri:
        split = urllib.parse.urlsplit(uri)
        target, raw_query = split.path, split.query
    else:
        target, _, raw_query = uri.partition("?")
    target, seen = urllib.parse.unquote(target), urllib.parse.unquote(path or "")
    if not target.startswith("/") or not seen:
        return False
    prefixes = ["", f"/{stage.strip('/')}"] if stage and stage.strip("/") else [""]
    if not any(target == prefix + seen or prefix + target == seen for prefix in prefixes):
        return False
    wanted = sorted((str(name), str(value)) for name, value in query)
    return wanted in (_query_pairs(raw_query, plus_is_space=True), _query_pairs(raw_query, plus_is_space=False))


def expected_response(*, algorithm: str, ha1: str, method: str, uri: str, nonce: str, nc: str, cnonce: str,
                      qop: str) -> str:
    digest = ALGORITHMS[algorithm]
    ha2 = digest(f"{method}:{uri}".encode("utf-8")).hexdigest()
    return digest(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode("utf-8")).hexdigest()


def authenticate(*, header: str | None, method: str, path: str, source_ip: str | None,
                 query: Sequence[tuple[str, str]] = (), stage: str | None = None,
                 read: bool = False) -> "tuple[Principal, PendingClaim | None]":
    """The Principal of a valid Digest Authorization, or DigestChallengeError.
    ``path`` and ``query`` (decoded pairs) are the request's target as the
    gateway reports it, ``stage`` its stage (see ``uri_matches``).

    The ``(nonce, nc)`` claim, the one write of a Digest request (a DynamoDB
    round trip), is made before this returns, unless ``read``: a request that
    changes nothing gets every other check here and its claim as a
    PendingClaim, running beside the read. Writes run only once claimed."""
    principal, nonce, nc, expires_at = _verified(header=header, method=method, path=path, source_ip=source_ip,
                                                 query=query, stage=stage)
    if read:
        return principal, PendingClaim(_claims().submit(_claim, nonce, nc, expires_at))
    if not _claim(nonce, nc, expires_at):
        raise DigestChallengeError("this nonce count was already used")
    return principal, None


class PendingClaim:
    """The ``(nonce, nc)`` claim of a read, made while the read runs.

    A read changes nothing, so what it finds may be gathered before the claim
    is known; ``confirm()`` waits for the claim and raises the replay's 401.
    The caller must call it, and answer only after it returned, whatever the
    read did: a replayed request then learns nothing from the answer."""

    def __init__(self, future: "Future[bool]") -> None:
        self._future = future

    def confirm(self) -> None:
        if not self._future.result():
            raise DigestChallengeError("this nonce count was already used")


_claim_pool: "ThreadPoolExecutor | None" = None


def _claims() -> "ThreadPoolExecutor":
    """The threads that make read claims: every claim is waited for before
    its request is answered, so none runs while a Lambda is frozen."""
    global _claim_pool
    if _claim_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        with _lock:
            if _claim_pool is None:
                _claim_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="digest-claim")
    return _claim_pool


def _claim(nonce: str, nc: str, expires_at: int) -> bool:
    from chalicelib.store.tracking import digest as store

    return store.claim_nonce_count(nonce, nc, expires_at=expires_at)


def _verified(*, header: str | None, method: str, path: str, source_ip: str | None,
              query: Sequence[tuple[str, str]], stage: str | None) -> tuple[Principal, str, str, int]:
    """Every check of a Digest request but the replay claim: the Principal,
    and the nonce, count and expiry its claim needs."""
    refused = DigestChallengeError("authentication required")
    params = parse_authorization(header or "")
    if not params:
        raise refused
    username, nonce, uri = params.get("username", ""), params.get("nonce", ""), params.get("uri", "")
    response, nc, cnonce = params.get("response", "").lower(), params.get("nc", ""), params.get("cnonce", "")
    algorithm = params.get("algorithm", "MD5").upper()
    if (not username or not response or params.get("realm") != REALM or params.get("qop") != "auth"
            or algorithm not in ALGORITHMS or len(nc) != 8 or not cnonce
            or not hmac.compare_digest(params.get("opaque", ""), opaque())):
        raise refused
    try:
        int(nc, 16)
    except ValueError:
        raise refused from None
    issued = nonce_issued(nonce)
    if issued is None or not uri_matches(uri, path=path, query=query, stage=stage):
        raise refused
    account = _account(username)
    ha1 = (account.ha1 if account is not None and account.usable else _DUMMY_HA1).get(HA1_KEYS[algorithm], "")
    expected = expected_response(algorithm=algorithm, ha1=ha1 or _DUMMY_HA1[HA1_KEYS[algorithm]], method=method,
                                 uri=uri, nonce=nonce, nc=nc, cnonce=cnonce, qop="auth")
    matched = hmac.compare_digest(expected, response)
    if account is not None and account.allowlist and not identity.source_allowed(list(account.allowlist), source_ip):
        # Nobody can sign in as this user from here, so the password is not
        # looked at: the same 401 (or the address's 429) right or wrong, and
        # the user's own count and lock are left alone, or any address could
        # lock a partner's servers out with five guesses.
        refusal = attempts.failed_from_address(source_ip)
        if refusal is not None:
            raise refusal
        raise DigestSourceNotAllowedError(f"requests from {source_ip} are not allowed for this user")
    if account is None or not account.usable or account.principal is None or not ha1 or not matched:
        _count_failure(username, source_ip)
        raise refused
    lock = attempts.locked(account.locked_until)
    if lock is not None:
        raise lock
    if issued + nonce_seconds() < clock.epoch():
        raise DigestChallengeError("the nonce has expired", stale=True)
    return account.principal, nonce, nc, issued + nonce_seconds() + 60


def _count_failure(username: str, source_ip: str | None) -> None:
    """A wrong password (or unknown, disabled, read-less user) counts as a
    failed sign-in of every door (auth/attempts.py); past a limit the answer
    is 429, not another challenge. This process forgets the user, so a lock
    the count just set is read at once."""
    refusal = attempts.failed(username, source_ip)
    forget(username)
    if refusal is not None:
        raise refusal


def answer(challenge: dict[str, Any], *, username: str, password: str, method: str, uri: str, nc: int = 1,
           cnonce: str | None = None) -> str:
    """An Authorization header answering ``challenge`` (tests and the bench
    use it to act as a client that speaks only one algorithm)."""
    algorithm = str(challenge.get("algorithm", "MD5")).upper()
    ha1 = ALGORITHMS[algorithm](f"{username}:{challenge['realm']}:{password}".encode()).hexdigest()
    cnonce = cnonce or _random.token_hex(8)
    count = f"{nc:08x}"
    response = expected_response(algorithm=algorithm, ha1=ha1, method=method, uri=uri, nonce=challenge["nonce"],
                                 nc=count, cnonce=cnonce, qop="auth")
    return (f'Digest username="{username}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
            f'uri="{uri}", algorithm={algorithm}, response="{response}", opaque="{challenge["opaque"]}", '
            f'qop=auth, nc={count}, cnonce="{cnonce}"')
