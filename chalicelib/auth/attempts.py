"""Failed sign-ins, counted once for every door: the portal's login and its
two-factor step, the voice API's password grant and call tracking's Digest.

A guesser gets USER_LIMIT wrong passwords per username and ADDRESS_LIMIT per
source address in a fixed window, wherever it tries them: five at the portal
do not leave five more for OAuth and five for Digest. Past a limit every
attempt of that username or address is refused (429 with Retry-After) in
every door, a right password too, so the answer stops telling right from
wrong; unknown usernames are counted like known ones.

The portal and OAuth read the counters before they check a password (one
BatchGetItem; a login is rare). Digest runs on every API request, so it
does not: a failure adds to the counters (and answers 429 once past a
limit; a request from outside the user's IP allow-list counts against its
address only, ``failed_from_address``), and the user's count reaching the limit writes ``signInLockedUntil``
on the user, which the Digest path reads with the user's HA1 anyway. A
function holding that user from before the lock trusts it for at most
AUTH_CACHE_SECONDS; the one that counted the failure forgets it at once.
"""
from __future__ import annotations

import os

from chalicelib import clock
from chalicelib.domain.errors import TooManyAttemptsError
from chalicelib.store.identity import attempts as store

WINDOW_SECONDS = 900
USER_LIMIT = 5       # per username and window
ADDRESS_LIMIT = 20   # per source address and window; SIGN_IN_LIMIT_PER_ADDRESS overrides ("off": none)


def _whos(username: str, source_ip: str | None) -> tuple[str, str]:
    return f"user:{(username or '').strip().lower()[:128]}", f"ip:{source_ip or '-'}"


def _window() -> int:
    return clock.epoch() // WINDOW_SECONDS


def _refusal(window: int) -> TooManyAttemptsError:
    return TooManyAttemptsError("too many failed attempts; wait and try again later",
                                retry_after=max(1, (window + 1) * WINDOW_SECONDS - clock.epoch()))


def _address_limit() -> int | None:
    value = os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS", "").strip().lower()
    return None if value == "off" else int(value) if value else ADDRESS_LIMIT


def _past(counts: dict[str, int], user: str, address: str, *, allowed: int = 0) -> bool:
    """Whether a count is past its limit by more than ``allowed`` (0: no attempt left)."""
    limit = _address_limit()
    return counts[user] >= USER_LIMIT + allowed or (limit is not None and counts[address] >= limit + allowed)


def check(username: str, source_ip: str | None) -> None:
    """TooManyAttemptsError when the username or the address is past its limit."""
    user, address = _whos(username, source_ip)
    window = _window()
    if _past(store.counts([user, address], window), user, address):
        raise _refusal(window)


def failed(username: str, source_ip: str | None) -> TooManyAttemptsError | None:
    """Count one failure; the refusal to answer with when the attempt was
    made past a limit (None: answer the failure as the door does, e.g. the
    fifth wrong password is still a 401). The user's last allowed failure
    locks the user until the window ends, for the Digest path."""
    user, address = _whos(username, source_ip)
    window = _window()
    counts = store.add_failure([user, address], window, expires_at=(window + 2) * WINDOW_SECONDS)
    if counts[user] >= USER_LIMIT and username:
        store.lock_user(username.strip(), until=(window + 1) * WINDOW_SECONDS)
    return _refusal(window) if _past(counts, user, address, allowed=1) else None


def failed_from_address(source_ip: str | None) -> TooManyAttemptsError | None:
    """Count one failure of the address only, as ``failed`` counts it. For a
    sign-in refused for where it came from (outside the user's IP
    allow-list), whatever its password: it says nothing about the user, and
    counting it against the username would let any address lock a partner's
    own servers out. The address's limit still stops a guesser."""
    _, address = _whos("", source_ip)
    window = _window()
    counts = store.add_failure([address], window, expires_at=(window + 2) * WINDOW_SECONDS)
    limit = _address_limit()
    return _refusal(window) if limit is not None and counts[address] >= limit + 1 else None


def locked(locked_until: int | None) -> TooManyAttemptsError | None:
    """The refusal for a user whose ``signInLockedUntil`` has not passed."""
    now = clock.epoch()
    if locked_until is None or int(locked_until) <= now:
        return None
    return TooManyAttemptsError("too many failed attempts; wait and try again later",
                                retry_after=int(locked_until) - now)
