"""The voice API over real HTTP on a local runtime: an organisation with an
account, users of every role logged in, and the document's call examples
(shared by the integration tests of the voice surface)."""
from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from tests.support.harness.tenants import create_tenant
from tests.support.harness.runtime import LocalRuntime

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class Org:
    """A tenant with an account (three DDIs, the document's mbn first), users of every role, logged in."""

    def __init__(self, runtime: LocalRuntime) -> None:
        from chalicelib.auth import api_key
        from chalicelib.services.identity import users
        from tests.support.surfaces.voice import DOCUMENT_NUMBER, account_ref, make_account

        self.runtime, self.base = runtime, runtime.base_url + "/api/v1"
        created = create_tenant(runtime, name="Demo Organisation")
        self.tenant = created["tenant"]["id"]
        suffix = uuid.uuid4().hex[:8]
        with runtime.environment():
            self.principal = api_key.authenticate(created["user"]["api_key"], None)
            # The document's account: its mbn is the number its call examples present.
            self.customer = make_account(self.principal, numbers=numbers(2), own_numbers=(DOCUMENT_NUMBER,))
            self.other = make_account(self.principal, name="Dean's Taxis", numbers=numbers(1))
            self.users = {"admin": (created["user"]["username"], created["user"]["password"])}
            for name, roles, account in (("voice", ["VoiceChannel"], None), ("reader", [], None),
                                         ("bound", [], self.customer["accountNumber"])):
                made = users.create_user(tenant=self.tenant, username=f"{name}-{suffix}", roles=roles,
                                         account_number=account, password=f"pw-{suffix}-{name}")
                self.users[name] = (made["username"], f"pw-{suffix}-{name}")
        self.account = account_ref(self.principal, self.customer)
        self.other_account = account_ref(self.principal, self.other)
        self.http = runtime.session()
        self.tokens = {name: self.login(*pair)["access_token"] for name, pair in self.users.items()}

    def login(self, username: str, password: str) -> dict[str, Any]:
        reply = self.http.post(self.base + "/oauth/authorize", data={"username": username, "password": password},
                               headers=FORM)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def call(self, method: str, path: str, body: Any = None, *, who: str = "admin", token: str | None = None,
             **kw: Any) -> requests.Response:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token or self.tokens[who]}",
                   **kw.pop("headers", {})}
        return self.http.request(method, self.base + path, json=body, headers=headers, **kw)


_counter = [0]


def numbers(count: int) -> tuple[str, ...]:
    # Distinct inventory numbers for every account of the session.
    found = []
    for _ in range(count):
        _counter[0] += 1
        found.append(f"20655{(int(time.time()) % 1000):03d}{_counter[0]:02d}"[-10:])
    return tuple(found)


def wait(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def wait_final(org: Org, call_id: str, account: str | None = None, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = org.call("GET", f"/account/{account or org.account}/channels/voice/{call_id}").json()
        if call["state"] not in ("queued", "initiated", "ringing", "answered"):
            return call
        time.sleep(0.1)
    raise AssertionError(f"call {call_id} did not end: {call}")
