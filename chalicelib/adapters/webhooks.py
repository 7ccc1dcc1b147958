"""Signed webhook delivery, with the server-side request forgery checks.

Every request a hook receives carries
  Dialtone-Delivery-Id: <uuid>             (also ``deliveryId`` in the body)
  Dialtone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the hook's secret>
whatever the hook's authType; BASIC and BEARER add an Authorization header.

The target's host is resolved here and every address it resolves to must be
public (no private, loopback, link-local — cloud metadata —, reserved or
multicast address); the connection then goes to the checked address itself, so
a DNS answer that changes between the check and the connection (rebinding)
cannot redirect it. Redirects are not followed. Loopback is allowed only where
VOICE_HOOKS_ALLOW_LOOPBACK=1 (the local runtime's default; off on deployed stages).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from chalicelib import clock, settings
from chalicelib.domain import voice as rules
from chalicelib.domain.errors import ValidationError

USER_AGENT = "Dialtone-Webhooks/1"
BLOCKED_NAMES = ("localhost", "metadata.google.internal", "metadata")
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain")


def allow_loopback() -> bool:
    default = "1" if settings.stage() in ("local", "test") else "0"
    return os.environ.get("VOICE_HOOKS_ALLOW_LOOPBACK", default) == "1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: int | None = None) -> bool:
    """The receiver's side of the recipe (docs/voice-api.md), used by the tests."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((clock.epoch() if now is None else now) - stamp) > tolerance:
        return False
    expected = signature(secret, stamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return []


def refusal(url: str, *, resolve: bool = True) -> str | None:
    """Why ``url`` may not be called (None: it may). An unresolvable name is
    refused only at delivery (``resolve`` is then required to succeed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
        if host == "localhost" and allow_loopback():
            return None
        return f"'{host}' is an internal name"
    addresses = [host] if _is_ip(host) else (_resolve(host, parts.port or 443) if resolve else [])
    for address in addresses:
        why = rules.address_refusal(address, allow_loopback=allow_loopback())
        if why:
            return f"'{host}' is {why}" if address == host else f"'{host}' resolves to {why} ({address})"
    return None


def check_url(url: str, pointer: str = "/url") -> None:
    """At save time: a URL whose host is or resolves to a forbidden address is refused."""
    why = refusal(url)
    if why:
        raise ValidationError(f"{pointer}: hooks cannot call {why}", field=pointer)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None
    ms: int
    answer: bytes = b""


def deliver(*, url: str, method: str, body: bytes, secret: str, delivery_id: str, auth_type: str,
            credentials: Mapping[str, str] | None, timeout: float = 10.0) -> Outcome:
    """One attempt: 2xx is success; anything else (status, timeout, refusal) a failure to retry."""
    started = time.perf_counter()

    def done(ok: bool, status: int | None, error: str | None) -> Outcome:
        return Outcome(ok, status, error, int((time.perf_counter() - started) * 1000))

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = [host] if _is_ip(host) else _resolve(host, port)
    if not addresses:
        return done(False, None, f"'{host}' does not resolve")
    for address in addresses:
        why = rules.address_refusal(address, allow_loopback=allow_loopback())
        if why:
            return done(False, None, f"refused: '{host}' resolves to {why}")
    if host.lower() in BLOCKED_NAMES and not (host.lower() == "localhost" and allow_loopback()):
        return done(False, None, f"refused: '{host}' is an internal name")
    stamp = clock.epoch()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Dialtone-Delivery-Id": delivery_id,
               "Dialtone-Signature": signature(secret, stamp, body), "Host": parts.netloc.rsplit("@", 1)[-1]}
    if auth_type == "BASIC" and credentials:
        pair = f"{credentials['username']}:{credentials['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif auth_type == "BEARER" and credentials:
        headers["Authorization"] = "Bearer " + credentials["token"]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        connection = _PinnedHTTPS(addresses[0], host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(addresses[0], port, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        return done(False, None, f"{type(error).__name__}: {error}"[:200])
    finally:
        connection.close()
    outcome = done(200 <= status < 300, status, None if 200 <= status < 300 else f"HTTP {status}")
    return Outcome(outcome.ok, outcome.status, outcome.error, outcome.ms, answer)


def fetch_verbs(*, hook: Mapping[str, Any], body: bytes, timeout: float) -> list[dict[str, Any]] | None:
    """Ask a flow.generic hook for the next verbs: its 2xx JSON answer
    ``{"verbs": [...]}``, validated like a call's; None on any failure."""
    import json

    from chalicelib.domain.errors import ValidationError as Invalid

    outcome = deliver(url=hook["url"], method=hook.get("method", "POST"), body=body, secret=hook["signingSecret"],
                      delivery_id=str(uuid.uuid4()), auth_type=hook.get("authType", "DISABLED"),
                      credentials=hook.get("credentials"), timeout=timeout)
    if not outcome.ok:
        return None
    try:
        return rules.update_input(json.loads(outcome.answer or b"null"))
    except (ValueError, Invalid):
        return None


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked for the URL's host name."""

    def __init__(self, address: str, server_name: str, port: int, *, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)
