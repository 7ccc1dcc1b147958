"""The request rate limits of every surface, in ONE place (issue 15): the
deployed stack's WAF web ACL (infra/waf.py) and the local API server
(infra/local/throttle.py) both read them, so both refuse the same requests.

Limits are counted per source address and per credential, in windows of
WINDOW_SECONDS; past a limit the request is answered 429, in the envelope of
the surface the path is under, with ``Retry-After`` and
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (docs/rate-limits.md).
Counting happens in front of the app (WAF, or the local server's memory), so
no API call costs an AWS request for it.

A credential is counted where it travels: the ``Authorization`` header
(platform and voice Bearer tokens), the partner API's ``token`` header, the
carrier API's ``token`` query parameter, the portal's session cookie. Digest
headers differ on every request, so the tracking API is limited per address,
and its failed answers (401) harder, locally; see docs/rate-limits.md for
what WAF can and cannot count.

Logins, API key generation and password grants have a much lower limit per
address. The per-user and per-address failure counters of the portal login
and the voice OAuth grant (services/identity/portal.py, services/voice/oauth.py)
stay behind it: they lock a username that an attacker spreads over many addresses.

Environment (read by the local server at start; the template is built with
the defaults unless the same variables are set when packaging):
``DIALTONE_RATE_LIMITS`` = ``on`` | ``off``; ``DIALTONE_RATE_LIMIT_<NAME>``
(e.g. ``DIALTONE_RATE_LIMIT_PER_ADDRESS=5000``) overrides one limit.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Mapping

WINDOW_SECONDS = 60  # one of WAF's evaluation windows (60, 120, 300, 600 s)

ADDRESS = "address"
AUTHORIZATION = "header:authorization"
TOKEN_HEADER = "header:token"
TOKEN_QUERY = "query:token"
PORTAL_COOKIE = "cookie:dialtone_portal"
CREDENTIAL_KEYS = (AUTHORIZATION, TOKEN_HEADER, TOKEN_QUERY, PORTAL_COOKIE)

# Where a password, a second factor or a key is checked or handed out (POST).
LOGIN_PATHS = (
    "/portal/login", "/portal/enrol", "/portal/api/key", "/portal/api/users/",
    "/api/v1/oauth/authorize",
    "/partner/api/v1/session", "/partner/api/v1/password",
    "/backend/api/v1/users/",  # the key actions (issueAPIKey, resetAPIKey) of a user
)


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int                      # requests per WINDOW_SECONDS and key
    key: str                        # ADDRESS or one of CREDENTIAL_KEYS
    paths: tuple[str, ...] = ()     # path prefixes it counts (none: every path)
    methods: tuple[str, ...] = ()   # methods it counts (none: every method)

    def counts(self, method: str, path: str) -> bool:
        return ((not self.methods or method.upper() in self.methods)
                and (not self.paths or any(path == p.rstrip("/") or path.startswith(p) for p in self.paths)))

    @property
    def env_name(self) -> str:
        return "DIALTONE_RATE_LIMIT_" + self.name.upper().replace("-", "_")


LIMITS: tuple[Limit, ...] = (
    Limit("per-address", 1200, ADDRESS),
    Limit("per-authorization", 600, AUTHORIZATION),
    Limit("per-token-header", 600, TOKEN_HEADER),
    Limit("per-token-parameter", 600, TOKEN_QUERY),
    Limit("per-portal-session", 300, PORTAL_COOKIE),
    Limit("logins-per-address", 20, ADDRESS, paths=LOGIN_PATHS, methods=("POST",)),
)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("DIALTONE_RATE_LIMITS", "on")
    return value.strip().lower() not in ("off", "0", "false", "no")


def limits(environ: Mapping[str, str] | None = None) -> tuple[Limit, ...]:
    """LIMITS with the environment's overrides; none when rate limits are off."""
    env = os.environ if environ is None else environ
    if not enabled(env):
        return ()
    return tuple(replace(limit, limit=int(env[limit.env_name])) if limit.env_name in env else limit
                 for limit in LIMITS)


def refusal_headers(limit: Limit, reset_seconds: int) -> dict[str, str]:
    """The headers of a 429: when to retry, the limit, what is left (nothing), when it resets."""
    seconds = str(max(1, reset_seconds))
    return {"Retry-After": seconds, "X-RateLimit-Limit": str(limit.limit), "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": seconds}


MESSAGE = "too many requests; retry after the number of seconds in Retry-After"
