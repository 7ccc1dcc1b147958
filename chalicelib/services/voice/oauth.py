"""The OAuth password grant and refresh-token rotation of POST /oauth/authorize.

Refresh tokens are opaque, single use and rotate (RFC 9700 §4.14.2): each
successful refresh marks the presented token used and issues the next one of
the same family in ONE transaction; presenting a used token again revokes the
whole family, so a stolen token dies as soon as either party uses it twice.
A family is bound to the password it was started under (its user's password
version, auth/access_tokens.password_version): after a password change a
refresh is refused (401) and the family revoked, as access tokens are.

Failed grants count as failed sign-ins of every door (auth/attempts.py), per
username and per source address; past a limit a grant is refused (429)
before any password is checked, the same for known and unknown users. Wrong
credentials answer the same 401 whether the user exists or not, after the
same scrypt work.
"""
from __future__ import annotations

import secrets as _random
from typing import Any

from chalicelib import clock
from chalicelib.auth import access_tokens, attempts, hashing as secrets
from chalicelib.domain.errors import AuthenticationError
from chalicelib.store.voice import oauth as store
from chalicelib.store.dynamo.table import Transaction

# A valid hash of a random password: unknown users cost the same scrypt work.
_DUMMY_HASH: list[str] = []


def password_grant(*, username: str, password: str, source_ip: str | None) -> dict[str, Any]:
    """Tokens for a username and password; AuthenticationError (one message for every failure)."""
    username = (username or "").strip()
    attempts.check(username, source_ip)
    from chalicelib.store.identity import users as identity

    found = identity.find_user_by_username(username) if username and len(username) <= 128 else None
    user = found[1] if found else None
    encoded = (user or {}).get("passwordHash") or _dummy_hash()
    good = secrets.verify_password(password or "", encoded)
    if not (found and user and good and user.get("active", True) and not user.get("apiOnly")):
        raise attempts.failed(username, source_ip) or AuthenticationError("invalid username or password")
    return _tokens(found[0], user, family=None)


def refresh_grant(*, token: str) -> dict[str, Any]:
    """The next pair for a refresh token; reuse of a spent token revokes its family."""
    invalid = AuthenticationError("the refresh token is invalid or expired")
    if not token or not token.startswith("rt.") or len(token) > 200:
        raise invalid
    token_hash = access_tokens.refresh_hash(token)
    record = store.get_refresh(token_hash)
    if record is None or int(record.get("expiresAt", 0)) <= clock.epoch():
        raise invalid
    if record.get("used"):
        store.revoke_family(record["family"])
        raise invalid
    from chalicelib.store.dynamo import entities
    from chalicelib.store.dynamo.schema import USER

    user = entities.get_one(USER, record["tenantId"], int(record["userId"]))
    if user is None or not user.get("active", True) or user.get("apiOnly"):
        raise invalid
    refused = _Revoke("the refresh token is invalid or expired")
    tx = Transaction()
    store.use_refresh(tx, token_hash, failure=refused)
    # The family must be live and started under the user's current password
    # (checked in the same transaction as the rotation, so a password change
    # that lands meanwhile is not missed).
    store.family_live(tx, record["family"], password_version=access_tokens.password_version(user), failure=refused)
    try:
        return _tokens(record["tenantId"], user, family=record["family"], also=tx)
    except _Revoke:
        # Lost the race to another use of the same token (a reuse too), or the
        # password changed since the family began: the whole family ends.
        store.revoke_family(record["family"])
        raise invalid from None


class _Revoke(AuthenticationError):
    pass


def _tokens(tenant: str, user: dict[str, Any], *, family: str | None,
            also: Transaction | None = None) -> dict[str, Any]:
    now = clock.epoch()
    refresh, refresh_hash = access_tokens.new_refresh_token()
    tx = also or Transaction()
    if family is None:
        family = _random.token_hex(12)
        # A family lives as long as refreshing can keep it going: TTL a day past the last token.
        store.new_family(tx, family, tenant=tenant, user_id=int(user["id"]),
                         password_version=access_tokens.password_version(user),
                         expires_at=now + access_tokens.REFRESH_SECONDS + 86400 * 30)
    store.put_refresh(tx, refresh_hash, tenant=tenant, user_id=int(user["id"]), family=family,
                      expires_at=now + access_tokens.REFRESH_SECONDS)
    tx.execute()
    return {"access_token": access_tokens.issue(tenant=tenant, user=user, now=now),
            "refresh_token": refresh, "token_type": "Bearer", "expires_in": access_tokens.ACCESS_SECONDS,
            "refresh_expires_in": access_tokens.REFRESH_SECONDS}


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(secrets.hash_password(_random.token_urlsafe(12)))
    return _DUMMY_HASH[0]
