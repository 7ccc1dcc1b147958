"""Bad inputs to the voice API change nothing and answer 4xx with a pointer to
the offending element: schema violations of trunks, hooks, devices and calls,
references to another account's or another tenant's DDIs, trunks and devices,
and private hook URLs. (Malformed JSON and wrong content types: test_voice_calls.)"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.support.surfaces.voice import EVENT_HOOK, TRUNK, Voice, account_ref, gateway, make_account, route_start

ANNOUNCEMENT = {"type": "ANNOUNCEMENT", "name": "Hello", "announcement": {"say": {"text": ["hi"]}}}
CALL = {"target": {"phoneNumber": {"number": "+441234567893"}}, "verbs": [{"say": {"text": ["hi"]}}]}


# One world for the module (refused requests write nothing, so the tests cannot disturb each other).
pytestmark = pytest.mark.aws_state_shared_by_module


@pytest.fixture(scope="module")
def world(aws: None) -> Iterator[dict[str, Any]]:
    """Two accounts of a tenant (each with a DDI, a trunk, a device) and one of another tenant."""
    from chalice.test import Client

    from app import app
    from chalicelib.auth import api_key
    from chalicelib.services.identity import users

    with Client(app, stage_name="test") as test_client:
        made: dict[str, Any] = {}
        apis = {}
        for tenant_name, accounts in (("Test Tenant", (("mine", "2065550100", "8.8.8.8"),
                                                       ("sibling", "2065550101", "8.8.4.4"))),
                                      ("Other Tenant", (("stranger", "2065550102", "1.1.1.1"),))):
            tenant = users.create_tenant(name=tenant_name)
            admin = api_key.authenticate(tenant["user"]["api_key"], None)
            api = Voice(test_client.http)
            api.login(tenant["user"]["username"], tenant["user"]["password"])
            apis[tenant_name] = api
            for name, number, ip in accounts:
                made[name] = _furnish(api, account_ref(admin, make_account(admin, name=name, numbers=(number,))), ip)
        made["api"] = api = apis["Test Tenant"]
        made["baseline"] = {kind: api.get(f"/account/{made['mine']['account']}/{kind}").json
                            for kind in ("trunk", "hook", "device", "channels/voice")}
        yield made


@pytest.fixture()
def voice(world: dict[str, Any]) -> Voice:
    return world["api"]


def _furnish(api: Voice, acc: str, ip: str) -> dict[str, Any]:
    trunk = api.post(f"/account/{acc}/trunk", {**TRUNK, "ip": ip})
    device = api.post(f"/account/{acc}/device", ANNOUNCEMENT)
    assert trunk.status_code == device.status_code == 201, (trunk.text, device.text)
    return {"account": acc, "ddi": api.get(f"/account/{acc}/ddi").json[0]["id"], "trunk": trunk.json["id"],
            "device": device.json["id"]}


def _refused(voice: Voice, world: dict[str, Any], method: str, path: str, body: Any, pointer: str) -> None:
    acc = world["mine"]["account"]
    reply = voice.call(method, f"/account/{acc}{path}", body)
    assert reply.status_code == 400, (path, body, reply.text)
    assert reply.json["pointer"] == pointer, reply.json
    # Nothing written: the collection is as the module's setup left it (every request here is refused).
    collection = path.split("/")[1] if not path.startswith("/channels") else "channels/voice"
    assert voice.get(f"/account/{acc}/{collection}").json == world["baseline"][collection]


@pytest.mark.parametrize("change, pointer", [
    ({"ip": "192.168.1.10"}, "/ip"), ({"ip": "127.0.0.1"}, "/ip"), ({"ip": "169.254.169.254"}, "/ip"),
    ({"ip": "fe80::1"}, "/ip"), ({"ip": "224.0.0.1"}, "/ip"), ({"ip": "pbx.example.com"}, "/ip"),
    ({"ip": None}, "/ip"), ({"port": 0}, "/port"), ({"port": 70000}, "/port"), ({"port": "5060"}, "/port"),
    ({"vendor": "nokia-9000"}, "/vendor"), ({"callerFormat": "local"}, "/callerFormat"),
    ({"calledFormat": 1}, "/calledFormat"), ({"zone": "mars-1"}, "/zone"), ({"countryCode": "XX"}, "/countryCode"),
    ({"countryCode": None}, "/countryCode"), ({"description": "x" * 201}, "/description"),
    ({"colour": "red"}, "/colour"),
])
def test_bad_trunks(voice: Voice, world: dict[str, Any], change: dict[str, Any], pointer: str) -> None:
    body = {k: v for k, v in {**TRUNK, **change}.items() if v is not None}
    _refused(voice, world, "POST", "/trunk", body, pointer)
    trunk = world["mine"]["trunk"]
    _refused(voice, world, "PUT", f"/trunk/{trunk}", {"id": trunk, **body}, pointer)


def test_a_trunk_put_naming_another_id_is_refused(voice: Voice, world: dict[str, Any]) -> None:
    trunk = world["mine"]["trunk"]
    reply = voice.put(f"/account/{world['mine']['account']}/trunk/{trunk}", {**TRUNK, "id": world["sibling"]["trunk"]})
    assert reply.status_code == 400 and reply.json["pointer"] == "/id"


@pytest.mark.parametrize("change, pointer", [
    ({"app": "flow.special"}, "/app"), ({"app": None}, "/app"), ({"url": None}, "/url"),
    ({"url": "ftp://hooks.example.com/x"}, "/url"), ({"url": "not a url"}, "/url"),
    ({"url": "https://user:pw@hooks.example.com/x"}, "/url"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "/url"), ({"url": "http://10.0.0.5/hook"}, "/url"),
    ({"url": "http://192.168.0.1:8080/hook"}, "/url"), ({"url": "http://[fd00::1]/hook"}, "/url"),
    ({"url": "http://metadata.google.internal/x"}, "/url"), ({"url": "http://printer.local/x"}, "/url"),
    ({"authType": "OAUTH"}, "/authType"), ({"method": "GET"}, "/method"), ({"priority": -1}, "/priority"),
    ({"priority": "high"}, "/priority"), ({"authType": "BASIC"}, "/credentials"),
    ({"authType": "BASIC", "credentials": {"username": "a:b", "password": "p"}}, "/credentials/username"),
    ({"authType": "BEARER", "credentials": {"token": "has space"}}, "/credentials/token"),
    ({"credentials": {"token": "t"}}, "/credentials"), ({"events": ["call"]}, "/events"),
])
def test_bad_hooks(voice: Voice, world: dict[str, Any], change: dict[str, Any], pointer: str) -> None:
    body = {k: v for k, v in {**EVENT_HOOK, **change}.items() if v is not None}
    _refused(voice, world, "POST", "/hook", body, pointer)


def test_bad_devices_and_references_outside_the_account(voice: Voice, world: dict[str, Any]) -> None:
    mine, sibling, stranger = world["mine"], world["sibling"], world["stranger"]
    gw = gateway(mine["trunk"], "601")
    cases = [
        ({"type": "PBX", "name": "x"}, "/type"),
        ({**ANNOUNCEMENT, "name": ""}, "/name"),
        ({**ANNOUNCEMENT, "extension": "6O1"}, "/extension"),
        ({**ANNOUNCEMENT, "announcement": {"say": {"text": ["hi"]}, "play": {"url": "https://x.example/a.wav"}}},
         "/announcement"),
        ({**ANNOUNCEMENT, "sipGateway": gw["sipGateway"]}, "/sipGateway"),
        ({"type": "ROUTE_START", "name": "s"}, "/startRoute"),
        ({**gw, "sipGateway": {**gw["sipGateway"], "trunks": []}}, "/sipGateway/trunks"),
        ({**gw, "sipGateway": {**gw["sipGateway"], "ringTime": 0}}, "/sipGateway/ringTime"),
        ({**gw, "sipGateway": {**gw["sipGateway"], "present": "anonymous"}}, "/sipGateway/present"),
        ({**gw, "sipGateway": {**gw["sipGateway"], "record": "yes"}}, "/sipGateway/record"),
        # References: a DDI, a trunk or a device of another account of the tenant, or of another tenant.
        (route_start(sibling["ddi"], "HANGUP", "650"), "/startRoute/ddis/0"),
        (route_start(stranger["ddi"], "HANGUP", "651"), "/startRoute/ddis/0"),
        (route_start(mine["ddi"], sibling["device"], "652"), "/startRoute/connectTo"),
        (route_start(mine["ddi"], stranger["device"], "653"), "/startRoute/connectTo"),
        (gateway(sibling["trunk"], "654"), "/sipGateway/trunks/0"),
        (gateway(stranger["trunk"], "655"), "/sipGateway/trunks/0"),
        ({**ANNOUNCEMENT, "announcement": {"say": {"text": ["hi"]}, "connectTo": sibling["device"]}},
         "/announcement/connectTo"),
        ({**ANNOUNCEMENT, "announcement": {"say": {"text": ["hi"]}, "connectTo": "nowhere"}},
         "/announcement/connectTo"),
    ]
    for body, pointer in cases:
        _refused(voice, world, "POST", "/device", body, pointer)
    device = mine["device"]
    _refused(voice, world, "PUT", f"/device/{device}",
             {**ANNOUNCEMENT, "id": device, "announcement": {"say": {"text": ["hi"]}, "connectTo": stranger["device"]}},
             "/announcement/connectTo")


@pytest.mark.parametrize("change, pointer", [
    ({"target": {"device": {"id": "SIBLING"}}}, "/target/device/id"),
    ({"target": {"device": {"id": "STRANGER"}}}, "/target/device/id"),
    ({"target": {}}, "/target"),
    ({"target": {"sipUri": {"uri": "http://example.com"}}}, "/target/sipUri/uri"),
    ({"target": {"extension": {"extension": "601", "overrideTo": "2 01"}}}, "/target/extension/overrideTo"),
    ({"tag": {"data": {"k": 1}}}, "/tag/data/k"),
    ({"tag": {"data": {f"k{n}": "v" for n in range(100)}}}, "/tag/data"),
    ({"tag": {"other": {}}}, "/tag/other"),
    ({"verbs": []}, "/verbs"),
    ({"verbs": [{"say": {"text": ["a"]}, "hangup": {}}]}, "/verbs/0"),
    ({"verbs": [{"gather": {"numDigits": 0}}]}, "/verbs/0/gather/numDigits"),
    ({"verbs": [{"dial": {"targets": [{"phoneNumber": {"number": "123"}}]}}]},
     "/verbs/0/dial/targets/0/phoneNumber/number"),
    ({"verbs": [{"play": {"url": "file:///etc/passwd"}}]}, "/verbs/0/play/url"),
    ({"verbs": [{"play": {"url": "https://[::1/a.wav"}}]}, "/verbs/0/play/url"),
    ({"verbs": [{"reject": {"reason": "bored"}}]}, "/verbs/0/reject/reason"),
    ({"verbs": [{"redirect": {}}]}, "/verbs/0/redirect"),
    ({"priority": 1}, "/priority"),
])
def test_bad_calls(voice: Voice, world: dict[str, Any], change: dict[str, Any], pointer: str) -> None:
    refs = {"SIBLING": world["sibling"]["device"], "STRANGER": world["stranger"]["device"]}
    if "target" in change and "device" in change["target"]:
        change = {"target": {"device": {"id": refs[change["target"]["device"]["id"]]}}}
    _refused(voice, world, "POST", "/channels/voice", {**CALL, **change}, pointer)


def test_another_tenants_account_is_not_found(voice: Voice, world: dict[str, Any]) -> None:
    stranger = world["stranger"]["account"]
    for method, path, body in (("GET", "", None), ("GET", "/trunk", None), ("POST", "/trunk", TRUNK),
                               ("POST", "/channels/voice", CALL), ("PUT", f"/device/{world['stranger']['device']}",
                                                                   ANNOUNCEMENT)):
        reply = voice.call(method, f"/account/{stranger}{path}", body)
        assert reply.status_code == 404, (method, path, reply.text)


@pytest.mark.parametrize("path", ["/trunk", "/hook", "/device", "/channels/voice"])
def test_malformed_json_and_wrong_content_types_write_nothing(voice: Voice, world: dict[str, Any], path: str) -> None:
    acc = world["mine"]["account"]
    collection = path.lstrip("/")
    for raw, headers, status in (("{nope", {}, 400), ('{"a": 1', {}, 400), ("[1, 2", {}, 400), ("", {}, 400),
                                 ("ip=1.1.1.1", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
                                 ('{"ip": "1.1.1.1"}', {"Content-Type": "text/plain"}, 415)):
        reply = voice.call("POST", f"/account/{acc}{path}", raw=raw, headers=headers)
        assert reply.status_code == status, (path, raw, reply.text)
    address = voice.get(f"/account/{acc}/address").json
    assert voice.call("PUT", f"/account/{acc}/address", raw="{nope").status_code == 400
    assert voice.get(f"/account/{acc}/address").json == address
    assert voice.get(f"/account/{acc}/{collection}").json == world["baseline"][collection]
