"""The voice API's role matrix (docs/voice-api.md, "Roles") over real HTTP,
cell by cell: every route of the surface for an OrganisationAdmin, a
VoiceChannel user, a user with neither role, and a customer-bound user, on
the bound user's own account and on another one."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness.runtime import LocalRuntime
from tests.support.surfaces.voice import ADDRESS, FLOW_HOOK, TRUNK
from tests.support.surfaces.voice import EXAMPLE_1
from tests.support.surfaces.voice_http import Org, wait, wait_final

ROLES = ("admin", "voice", "reader", "bound")
ANNOUNCEMENT = {"type": "ANNOUNCEMENT", "name": "Welcome", "announcement": {"say": {"text": ["hi"]}}}
# Answers, says its verb, and holds the line (up to 30 s) until updated or hung up.
HOLDING = {"target": {"phoneNumber": {"number": "+15005550006"}}, "verbs": [{"say": {"text": ["Please hold"]}}]}


@pytest.fixture(scope="module")
def org(runtime: LocalRuntime) -> Org:
    return Org(runtime)


def _made(org: Org, path: str, body: Any) -> str:
    reply = org.call("POST", f"/account/{org.account}{path}", body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def _check(org: Org, cells: list[tuple[tuple[str, str, Any], int, int, int, int]]) -> None:
    for (method, path, body), *expected in cells:
        # The refused roles first: a refused request changes nothing, so the allowed one still finds it all.
        for who, status in sorted(zip(ROLES, expected), key=lambda pair: pair[1] < 400):
            reply = org.call(method, path, body, who=who)
            assert reply.status_code == status, (who, method, path, reply.text)
            if status == 403:
                assert "role" in reply.json()["message"], reply.text


def test_every_read_is_open_to_every_role_within_its_customer_access(org: Org) -> None:
    acc, other = org.account, org.other_account
    trunk = _made(org, "/trunk", TRUNK)
    hook = _made(org, "/hook", FLOW_HOOK)
    device = _made(org, "/device", ANNOUNCEMENT)
    call = _made(org, "/channels/voice", EXAMPLE_1)
    wait_final(org, call)
    reads = ["", "/address", "/ddi", "/trunk", f"/trunk/{trunk}", "/hook", f"/hook/{hook}",
             f"/hook/{hook}/deliveries", "/device", f"/device/{device}", "/channels/voice",
             f"/channels/voice/{call}"]
    cells: list[tuple[tuple[str, str, Any], int, int, int, int]] = [
        (("GET", "/userAccounts/me", None), 200, 200, 200, 200),
        (("GET", "/account", None), 200, 200, 200, 200),
    ]
    cells += [(("GET", f"/account/{acc}{path}", None), 200, 200, 200, 200) for path in reads]
    # Another account: the customer-bound user does not see it at all (404, as one that does not exist).
    cells += [(("GET", f"/account/{other}{path}", None), 200, 200, 200, 404) for path in ("", "/address", "/ddi",
                                                                                     "/trunk", "/hook", "/device",
                                                                                     "/channels/voice")]
    _check(org, cells)
    assert [a["id"] for a in org.call("GET", "/account", who="bound").json()] == [acc]
    assert len(org.call("GET", "/account", who="reader").json()) >= 2


def test_configuration_is_for_the_organisation_admin_only(org: Org) -> None:
    acc, other = org.account, org.other_account
    trunk = _made(org, "/trunk", {**TRUNK, "ip": "8.8.8.8"})
    doomed_trunk = _made(org, "/trunk", {**TRUNK, "ip": "9.9.9.9"})
    hook, doomed_hook = _made(org, "/hook", FLOW_HOOK), _made(org, "/hook", FLOW_HOOK)
    device, doomed_device = _made(org, "/device", ANNOUNCEMENT), _made(org, "/device", ANNOUNCEMENT)
    _check(org, [
        (("PUT", f"/account/{acc}/address", ADDRESS), 204, 403, 403, 403),
        (("POST", f"/account/{acc}/trunk", {**TRUNK, "ip": "8.8.4.4"}), 201, 403, 403, 403),
        (("PUT", f"/account/{acc}/trunk/{trunk}", {"id": trunk, **TRUNK, "ip": "8.8.8.8"}), 204, 403, 403, 403),
        (("DELETE", f"/account/{acc}/trunk/{doomed_trunk}", None), 204, 403, 403, 403),
        (("POST", f"/account/{acc}/hook", FLOW_HOOK), 201, 403, 403, 403),
        (("PUT", f"/account/{acc}/hook/{hook}", {"id": hook, **FLOW_HOOK}), 204, 403, 403, 403),
        (("POST", f"/account/{acc}/hook/{hook}/signingSecret", None), 200, 403, 403, 403),
        (("DELETE", f"/account/{acc}/hook/{doomed_hook}", None), 204, 403, 403, 403),
        (("POST", f"/account/{acc}/device", ANNOUNCEMENT), 201, 403, 403, 403),
        (("PUT", f"/account/{acc}/device/{device}", {"id": device, **ANNOUNCEMENT}), 204, 403, 403, 403),
        (("DELETE", f"/account/{acc}/device/{doomed_device}", None), 204, 403, 403, 403),
        (("PUT", f"/account/{other}/address", ADDRESS), 204, 403, 403, 403),
    ])


def test_calls_are_for_the_admin_and_the_voice_channel(org: Org) -> None:
    acc, other = org.account, org.other_account
    ddi = org.call("GET", f"/account/{acc}/ddi").json()[0]["id"]
    cells: list[tuple[tuple[str, str, Any], int, int, int, int]] = [
        (("POST", f"/account/{acc}/channels/voice", EXAMPLE_1), 201, 201, 403, 403),
        # (The other account presents its own mbn: blank callerId.)
        (("POST", f"/account/{other}/channels/voice", {**EXAMPLE_1, "callerId": ""}), 201, 201, 403, 403),
        (("POST", f"/account/{acc}/simulator/inbound", {"ddi": ddi, "from": "+441234567890"}), 201, 201, 403, 403),
    ]
    _check(org, cells)
    update = {"verbs": [{"say": {"text": ["Goodbye"]}}, {"hangup": {}}]}

    def answered(call: str) -> bool:
        return org.call("GET", f"/account/{acc}/channels/voice/{call}").json()["state"] == "answered"
    # One live call at a time (call control runs a held call to its end before the next).
    for who in ("admin", "voice"):
        for action in ("PUT", "DELETE"):
            call = _made(org, "/channels/voice", HOLDING)
            wait(lambda: answered(call))  # noqa: B023 (called at once)
            body = update if action == "PUT" else None
            for refused in ("reader", "bound"):  # nothing changes
                reply = org.call(action, f"/account/{acc}/channels/voice/{call}", body, who=refused)
                assert reply.status_code == 403 and "role" in reply.json()["message"], reply.text
            assert answered(call)
            reply = org.call(action, f"/account/{acc}/channels/voice/{call}", body, who=who)
            assert reply.status_code == 204, (who, action, reply.text)
            ended = wait_final(org, call)
            events = [h["event"] for h in ended["history"]]
            assert ended["state"] == "completed", ended
            assert ("call.updated" in events) if action == "PUT" else (ended["cause"] == "api-hangup"), ended
