"""The document's examples for accounts, address, DDIs, trunks, hooks and
devices, through the Chalice test client (the same run over real HTTP is in
tests/integration/surfaces/test_voice_api.py)."""
from __future__ import annotations

import pytest

from tests.support.surfaces.voice import (
    ADDRESS, EVENT_HOOK, FLOW_HOOK, TRUNK, account_ref, gateway, make_account, route_start)


@pytest.fixture()
def shop(voice, admin):
    customer = make_account(admin, numbers=("2065550100", "2065550101"))
    return {"customer": customer, "account": account_ref(admin, customer)}


def test_accounts_address_and_ddis(voice, shop):
    acc = shop["account"]
    listed = voice.get("/account").json
    assert {"id": acc, "name": "Darren's Pizzas"} in listed
    one = voice.get(f"/account/{acc}")
    assert one.status_code == 200 and one.json == {"id": acc, "name": "Darren's Pizzas", "mbn": "12065550100",
                                                   "domain": "darrenspizzas"}
    ddis = voice.get(f"/account/{acc}/ddi").json
    assert [d["name"] for d in ddis] == ["12065550100", "12065550101"] and all(len(d["id"]) == 24 for d in ddis)
    put = voice.put(f"/account/{acc}/address", ADDRESS)
    assert put.status_code == 204 and put.text == ""
    assert voice.get(f"/account/{acc}/address").json == ADDRESS
    bad = voice.put(f"/account/{acc}/address", {**ADDRESS, "postalCode": "12345"})
    assert bad.status_code == 400 and bad.json["pointer"] == "/postalCode"
    assert voice.get(f"/account/{acc}/address").json == ADDRESS
    assert voice.get("/account/5554872eb0731b38efa4d444").status_code == 404


def test_trunks_hooks_devices(voice, shop):
    acc = shop["account"]
    made = voice.post(f"/account/{acc}/trunk", TRUNK)
    assert made.status_code == 201, made.text
    trunk_id = made.json["id"]
    assert made.headers["location"].endswith(f"/account/{acc}/trunk/{trunk_id}")
    assert voice.get(f"/account/{acc}/trunk/{trunk_id}").json == {"id": trunk_id, **TRUNK}
    assert voice.put(f"/account/{acc}/trunk/{trunk_id}", {"id": trunk_id, **TRUNK, "port": 5080}).status_code == 204
    assert voice.get(f"/account/{acc}/trunk").json == [{"id": trunk_id, **TRUNK, "port": 5080}]
    assert voice.post(f"/account/{acc}/trunk", {**TRUNK, "ip": "10.0.0.1"}).json["pointer"] == "/ip"

    hook = voice.post(f"/account/{acc}/hook", EVENT_HOOK)
    assert hook.status_code == 201 and hook.json["signingSecret"].startswith("whsec_")
    hook_id = hook.json["id"]
    assert voice.get(f"/account/{acc}/hook/{hook_id}").json == {"id": hook_id, **EVENT_HOOK}
    flow_hook = voice.post(f"/account/{acc}/hook", FLOW_HOOK).json["id"]
    assert {h["id"] for h in voice.get(f"/account/{acc}/hook").json} == {hook_id, flow_hook}
    refused = voice.post(f"/account/{acc}/hook", {**EVENT_HOOK, "url": "http://169.254.169.254/latest"})
    assert refused.status_code == 400 and refused.json["pointer"] == "/url"

    ddi = voice.get(f"/account/{acc}/ddi").json[0]["id"]
    gw = voice.post(f"/account/{acc}/device", gateway(trunk_id))
    assert gw.status_code == 201, gw.text
    start = voice.post(f"/account/{acc}/device", route_start(ddi, gw.json["id"]))
    assert start.status_code == 201, start.text
    listed = voice.get(f"/account/{acc}/device").json
    assert [d["type"] for d in listed] == ["SIP_GATEWAY", "ROUTE_START"]
    assert voice.get(f"/account/{acc}/device/{start.json['id']}").json == {"id": start.json["id"],
                                                                          **route_start(ddi, gw.json["id"])}
    # In use: the gateway, its trunk.
    assert voice.delete(f"/account/{acc}/device/{gw.json['id']}").status_code == 409
    assert voice.delete(f"/account/{acc}/trunk/{trunk_id}").status_code == 409
    # A second route for the same DDI, a duplicate extension.
    assert voice.post(f"/account/{acc}/device", route_start(ddi, "HANGUP", "650")).status_code == 400
    assert voice.post(f"/account/{acc}/device", gateway(trunk_id, "600")).json["pointer"] == "/extension"
    update = voice.put(f"/account/{acc}/device/{start.json['id']}",
                       {"id": start.json["id"], **route_start(ddi, "HANGUP")})
    assert update.status_code == 204
    assert voice.delete(f"/account/{acc}/device/{gw.json['id']}").status_code == 204
    assert voice.delete(f"/account/{acc}/trunk/{trunk_id}").status_code == 204


def test_a_loop_without_caller_input_is_refused(voice, shop):
    acc = shop["account"]
    a = voice.post(f"/account/{acc}/device", {"type": "ANNOUNCEMENT", "name": "A",
                                               "announcement": {"say": {"text": ["hi"]}, "connectTo": "HANGUP"}})
    b = voice.post(f"/account/{acc}/device", {"type": "ANNOUNCEMENT", "name": "B",
                                               "announcement": {"say": {"text": ["hi"]}, "connectTo": a.json["id"]}})
    loop = voice.put(f"/account/{acc}/device/{a.json['id']}", {"type": "ANNOUNCEMENT", "name": "A",
                     "announcement": {"say": {"text": ["hi"]}, "connectTo": b.json["id"]}})
    assert loop.status_code == 400 and "loop" in loop.json["message"]
    menu = voice.post(f"/account/{acc}/device", {"type": "MENU", "name": "M", "menu": {
        "say": {"text": ["press 1"]}, "options": {"1": b.json["id"]}, "onNoInput": "HANGUP"}})
    assert menu.status_code == 201
    ok = voice.put(f"/account/{acc}/device/{a.json['id']}", {"type": "ANNOUNCEMENT", "name": "A",
                   "announcement": {"say": {"text": ["hi"]}, "connectTo": menu.json["id"]}})
    assert ok.status_code == 204, ok.text


def test_hook_credentials_are_stored_sealed_and_never_shown(voice, shop, admin):
    from chalicelib.domain.voice import parse_opaque_id
    from chalicelib.services.voice import hooks
    from chalicelib.store.voice import children as store

    acc = shop["account"]
    for auth, credentials in (("BASIC", {"username": "ann", "password": "pa55-word"}), ("BEARER", {"token": "tok-9"})):
        made = voice.post(f"/account/{acc}/hook", {**EVENT_HOOK, "authType": auth, "credentials": credentials})
        assert made.status_code == 201, made.text
        hook_id = made.json["id"]
        stored = store.child(store.HOOK, admin.tenant_id, shop["customer"]["id"],
                             parse_opaque_id(admin.tenant_id, "VHOOK", hook_id, uuid=True))
        assert stored["credentials"].startswith("sealed:v1:")
        assert all(secret not in str(stored) for secret in credentials.values())
        assert hooks.credentials_of(stored) == credentials  # opened for a delivery
        answers = (made.json, voice.get(f"/account/{acc}/hook/{hook_id}").json, voice.get(f"/account/{acc}/hook").json)
        for shown in answers:
            assert "credentials" not in str(shown) and all(secret not in str(shown) for secret in credentials.values())


def test_credentials_saved_before_sealing_are_read_and_sealed_by_the_migration(voice, shop, admin):
    from chalicelib.services.voice import hooks
    from chalicelib.store.voice import children as store

    plain = {"username": "old", "password": "in-clear"}
    record = store.create_child(store.HOOK, admin.tenant_id, {
        **EVENT_HOOK, "authType": "BASIC", "credentials": plain, "customerId": shop["customer"]["id"],
        "signingSecret": "whsec_x"})
    assert hooks.credentials_of(record) == plain  # still delivered with them meanwhile
    assert hooks.seal_hook_credentials(tenant=admin.tenant_id) == 1
    sealed = store.child(store.HOOK, admin.tenant_id, shop["customer"]["id"], record["id"])
    assert sealed["credentials"].startswith("sealed:v1:") and hooks.credentials_of(sealed) == plain
    assert hooks.seal_hook_credentials(tenant=admin.tenant_id) == 0  # safe to run again
