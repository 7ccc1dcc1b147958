"""Portal sessions: log in with username, password and a TOTP code, enrol a
second factor, resolve and end sessions, throttle wrong attempts.

A session is a server-side record (store/portal.py) named by a random id in
an HttpOnly cookie, made at login (a visitor has none: the login form's CSRF
token is a double-submit cookie, api/portal/dialect.py). It is in one of two
states:
  enrol  the password was right but the user has no TOTP secret yet: it
         carries the secret being enrolled, shown once on the enrolment page
  user   logged in
(Records of a third, ``anon``, written for visitors before, are not logged in
and expire within the hour.) Every login writes a new record under a new id
and deletes the one the browser had, so an id known before login (fixation)
is worth nothing after it.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, settings
from chalicelib.auth import attempts, hashing, sealing
from chalicelib.domain import identity
from chalicelib.domain.errors import AuthenticationError, DialtoneError
from chalicelib.domain.identity import Principal
from chalicelib.services.identity import users
from chalicelib.store.identity import users as users_store
from chalicelib.store.identity import portal as store

ENROL_SECONDS = 600
WRONG = "wrong username, password or two-factor code"


def session_seconds() -> int:
    # Absolute lifetime of a logged-in session: no sliding renewal, so a stolen
    # cookie is worth at most this long.
    return int(os.environ.get("PORTAL_SESSION_SECONDS", str(8 * 3600)))


@dataclass(frozen=True)
class Session:
    id: str
    state: str
    csrf: str
    tenant_id: str | None = None
    user_id: int | None = None
    pending_secret: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.state == "user"


def _new(state: str, ttl: int, **fields: Any) -> Session:
    session = Session(id=secrets.token_urlsafe(32), state=state, csrf=secrets.token_urlsafe(32), **fields)
    record = {"state": state, "csrf": session.csrf, "createdAt": clock.now_iso(),
              **{k: v for k, v in (("tenantId", session.tenant_id), ("userId", session.user_id)) if v is not None}}
    if session.pending_secret:
        # Sealed like a stored seed: a read of the table does not give it away.
        record["pendingSecret"] = sealing.seal(session.pending_secret)
    store.put_session(session.id, record, ttl_seconds=ttl)
    return session


def resolve(session_id: str | None) -> Session | None:
    if not session_id or len(session_id) > 100:
        return None
    found = store.get_session(session_id)
    if found is None:
        return None
    return Session(id=session_id, state=found["state"], csrf=found["csrf"], tenant_id=found.get("tenantId"),
                   user_id=int(found["userId"]) if found.get("userId") is not None else None,
                   pending_secret=sealing.unseal(found.get("pendingSecret")))


def end(session_id: str) -> None:
    store.delete_session(session_id)


def _failed(username: str, source_ip: str | None, message: str = WRONG) -> DialtoneError:
    """A failed sign-in of every door (auth/attempts.py): the error to raise."""
    return attempts.failed(username, source_ip) or AuthenticationError(message)


def login(*, session: Session | None, username: str, password: str, code: str, source_ip: str | None) -> Session:
    """A new session for the user (state ``user``, or ``enrol`` for a user
    without a TOTP secret); the session the browser had, if any, is deleted. Every failure
    says the same thing, so the form does not tell which part was wrong."""
    username = (username or "").strip()
    attempts.check(username, source_ip)
    found = users_store.find_user_by_username(username) if username else None
    tenant_id, user = found if found else (None, None)
    # A password is checked even for an unknown user, so the answer takes as long either way.
    password_ok = hashing.verify_password(password, (user or {}).get("passwordHash") or _dummy_hash())
    if not user or not tenant_id or not password_ok or user.get("apiOnly") or not user.get("active", True):
        raise _failed(username, source_ip)
    if not user.get("totpSecret"):
        _end_previous(session)
        return _new("enrol", ENROL_SECONDS, tenant_id=tenant_id, user_id=int(user["id"]),
                    pending_secret=hashing.new_totp_secret())
    step = hashing.totp_step(sealing.unseal(user["totpSecret"]), code)
    if step is None:
        raise _failed(username, source_ip)
    # The API's rule: a code is good once (the step must be later than the last one accepted).
    if not users_store.claim_totp_step(tenant_id, int(user["id"]), step):
        raise _failed(username, source_ip, "this two-factor code has already been used; wait for the next one")
    _end_previous(session)
    return _new("user", session_seconds(), tenant_id=tenant_id, user_id=int(user["id"]))


def _end_previous(session: Session | None) -> None:
    if session is not None:
        end(session.id)


def enrol(*, session: Session, code: str, source_ip: str | None) -> Session:
    """Confirm the secret shown on the enrolment page with a first code; the
    user's secret is stored and a logged-in session replaces the enrolment one."""
    if session.state != "enrol" or not session.tenant_id or session.user_id is None or not session.pending_secret:
        raise AuthenticationError("the enrolment has expired; log in again")
    user = users.get_user(tenant=session.tenant_id, user_id=session.user_id)
    attempts.check(user["username"], source_ip)
    step = hashing.totp_step(session.pending_secret, code)
    if step is None:
        raise _failed(user["username"], source_ip, "the code does not match the secret; try the next one")
    users.enrol_totp(tenant=session.tenant_id, user_id=session.user_id, secret=session.pending_secret)
    users_store.claim_totp_step(session.tenant_id, session.user_id, step)
    end(session.id)
    return _new("user", session_seconds(), tenant_id=session.tenant_id, user_id=session.user_id)


def reveal_pending_secret(session: Session) -> str | None:
    """The secret being enrolled, to show on the enrolment page: the first
    time only. A reload, a wrong code or someone else with the cookie later
    gets None; whoever did not keep it logs in again for a new one."""
    if session.state != "enrol" or not session.pending_secret:
        return None
    return session.pending_secret if store.mark_secret_shown(session.id) else None


def principal_of(session: Session) -> Principal:
    """The logged-in user's Principal. Like a resolved API key, it is trusted
    by this process for AUTH_CACHE_SECONDS (a page then costs one read less);
    a user deactivated or changed elsewhere is seen within that time."""
    if not session.logged_in or not session.tenant_id or session.user_id is None:
        raise AuthenticationError("not logged in")
    key = (session.tenant_id, session.user_id)
    now = time.monotonic()
    cached = _principals.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    user = users.get_user(tenant=session.tenant_id, user_id=session.user_id)
    if not user.get("active", True) or user.get("apiOnly"):
        raise AuthenticationError("this user may not log in")
    principal = identity.principal_from_user(user, session.tenant_id)
    with _lock:
        if len(_principals) >= 10_000:
            _principals.clear()
        _principals[key] = (now + settings.auth_cache_seconds(), principal)
    return principal


_principals: dict[tuple[str, int], tuple[float, Principal]] = {}
_lock = threading.Lock()


_dummy: list[str] = []


def _dummy_hash() -> str:
    # Computed once, on first use: hashing costs what a real check costs.
    if not _dummy:
        _dummy.append(hashing.hash_password(secrets.token_urlsafe(16)))
    return _dummy[0]
