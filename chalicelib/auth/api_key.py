"""API-key credentials (billing platform Bearer, partner ``token`` header,
carrier ``token`` parameter) resolved to a Principal.

A resolved key is trusted by this process for AUTH_CACHE_SECONDS: a warm
Lambda then serves a read with one DynamoDB request instead of three. A key
revoked by this process is forgotten at once; revoked elsewhere, it stops
working here within that time (as API Gateway's authorizer cache does). The
IP allow-list is checked on every request against the gateway's source IP.
An empty allow-list lets any address in, except where the surface's document
says the caller's address must be listed (``require_allowlist``: the partner
API answers 401 to a user with no allow-list).
"""
from __future__ import annotations

import threading
import time

from chalicelib import settings
from chalicelib.auth import hashing as secrets
from chalicelib.domain import identity
from chalicelib.domain.errors import AuthenticationError, SourceNotAllowedError
from chalicelib.domain.identity import Principal

_cache: dict[str, tuple[float, Principal, tuple[str, ...]]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


def authenticate(key: str | None, source_ip: str | None, *, require_allowlist: bool = False) -> Principal:
    if not key or not secrets.looks_like_api_key(key):
        raise AuthenticationError("missing or malformed API key")
    key_hash = secrets.api_key_hash(key)
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached is None or cached[0] < now:
        from chalicelib.store.identity import users as store

        tenant_id, user = store.resolve_api_key(key_hash)
        cached = (now + settings.auth_cache_seconds(), identity.principal_from_user(user, tenant_id),
                  tuple(user.get("ipAllowlist") or ()))
        with _lock:
            if len(_cache) >= _MAX_ENTRIES:
                _cache.clear()
            _cache[key_hash] = cached
    _, principal, allowlist = cached
    if require_allowlist and not allowlist:
        raise SourceNotAllowedError("this user has no IP allow-list: list the addresses it calls from")
    if not identity.source_allowed(list(allowlist), source_ip):
        raise SourceNotAllowedError(f"requests from {source_ip} are not allowed for this user")
    return principal


def forget(key_hash: str) -> None:
    with _lock:
        _cache.pop(key_hash, None)


def forget_all() -> None:
    with _lock:
        _cache.clear()
