"""Voice calls through the test client, with call control and webhook
delivery run in-process (the queue consumers' functions, called directly)."""
from __future__ import annotations

import pytest

from tests.support.surfaces.voice import DOCUMENT_NUMBER, EXAMPLE_1, EXAMPLE_2, TRUNK, account_ref, gateway, make_account


@pytest.fixture()
def shop(voice, admin):
    customer = make_account(admin, numbers=("2065550100",), own_numbers=(DOCUMENT_NUMBER,))
    acc = account_ref(admin, customer)
    trunk = voice.post(f"/account/{acc}/trunk", TRUNK).json["id"]
    assert voice.post(f"/account/{acc}/device", gateway(trunk, "604")).status_code == 201
    return {"account": acc, "admin": admin}


def _run(admin, call_id):
    from chalicelib.domain.voice import parse_opaque_id
    from chalicelib.services.voice import control

    return control.run(tenant=admin.tenant_id, call_id=parse_opaque_id(admin.tenant_id, "VCALL", call_id, uuid=True))


def test_both_document_examples(voice, shop):
    acc = shop["account"]
    for example, expected_digits in ((EXAMPLE_1, []), (EXAMPLE_2, [])):
        made = voice.post(f"/account/{acc}/channels/voice", example)
        assert made.status_code == 201, made.text
        assert made.json["state"] == "queued" and made.headers["location"].endswith(made.json["id"])
        assert _run(shop["admin"], made.json["id"]) == "completed"
        call = voice.get(f"/account/{acc}/channels/voice/{made.json['id']}").json
        assert call["state"] == "completed" and call["digits"] == expected_digits
        states = [h.get("state") for h in call["history"] if h.get("state")]
        assert states == ["queued", "initiated", "ringing", "answered", "completed"]
    listed = voice.get(f"/account/{acc}/channels/voice").json
    assert len(listed) == 2


def test_outcomes_of_test_numbers(voice, shop):
    acc = shop["account"]
    for number, state in (("+15005550001", "busy"), ("+15005550002", "no-answer"), ("+15005550003", "failed")):
        made = voice.post(f"/account/{acc}/channels/voice", {**EXAMPLE_1, "target": {"phoneNumber": {"number": number}}})
        assert _run(shop["admin"], made.json["id"]) == state
    gather = voice.post(f"/account/{acc}/channels/voice", {
        "target": {"phoneNumber": {"number": "+150055581234"}},
        "verbs": [{"gather": {"numDigits": 4, "timeout": 5, "prompt": [{"say": {"text": ["Enter your PIN"]}}]}}]})
    assert gather.status_code == 201, gather.text
    _run(shop["admin"], gather.json["id"])
    assert voice.get(f"/account/{acc}/channels/voice/{gather.json['id']}").json["digits"] == ["1234"]


@pytest.mark.parametrize("body, pointer", [
    ({"target": {"phoneNumber": {"number": "+441234567893"}}}, "/verbs"),
    ({**EXAMPLE_1, "verbs": [{"shout": {}}]}, "/verbs/0/shout"),
    ({**EXAMPLE_1, "verbs": [{"say": {"text": []}}]}, "/verbs/0/say/text"),
    ({**EXAMPLE_1, "verbs": [{"say": {"text": ["x"], "colour": "red"}}]}, "/verbs/0/say/colour"),
    ({**EXAMPLE_2, "verbs": [EXAMPLE_2["verbs"][0], {"dial": {"timeout": 0, "targets": []}}]}, "/verbs/1/dial/timeout"),
    ({**EXAMPLE_1, "target": {"phoneNumber": {"number": "441234"}}}, "/target/phoneNumber/number"),
    ({**EXAMPLE_1, "target": {"phoneNumber": {"number": "+441234567893"}, "sipUri": {"uri": "sip:a@b"}}}, "/target"),
    ({**EXAMPLE_1, "target": {"extension": {"extension": "999"}}}, "/target/extension/extension"),
    ({**EXAMPLE_1, "callerId": "12"}, "/callerId"),
])
def test_bad_calls_are_400_with_a_pointer_and_write_nothing(voice, shop, body, pointer):
    acc = shop["account"]
    reply = voice.post(f"/account/{acc}/channels/voice", body)
    assert reply.status_code == 400 and reply.json["pointer"] == pointer, reply.text
    assert voice.get(f"/account/{acc}/channels/voice").json == []


def test_malformed_json_and_wrong_content_type(voice, shop):
    acc = shop["account"]
    assert voice.post(f"/account/{acc}/channels/voice", raw="{nope").status_code == 400
    wrong = voice.post(f"/account/{acc}/channels/voice", raw="a=b", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    assert voice.get(f"/account/{acc}/channels/voice").json == []


# (A hangup verb ends the call: its reason becomes the cause; verbsRun lists the verbs that ran before it.)
NEW_VERBS = {"verbs": [{"say": {"text": ["Sorry, the driver is lost"]}}, {"hangup": {"reason": "updated"}}]}


def test_a_put_right_after_the_post_replaces_the_verbs_the_call_starts_with(voice, shop):
    acc = shop["account"]
    made = voice.post(f"/account/{acc}/channels/voice", EXAMPLE_1).json
    assert voice.put(f"/account/{acc}/channels/voice/{made['id']}", NEW_VERBS).status_code == 204
    assert _run(shop["admin"], made["id"]) == "completed"
    call = voice.get(f"/account/{acc}/channels/voice/{made['id']}").json
    assert call["cause"] == "updated" and [v["verb"] for v in call["verbsRun"]] == ["say"]
    assert "call.updated" in [h["event"] for h in call["history"]]


def test_a_put_during_the_last_verb_still_runs(voice, shop, monkeypatch):
    # The PUT lands while the call says its last verb: after call control's last
    # look at the call, before it ends. Its 204 must not be ignored.
    from chalicelib.adapters import media

    acc = shop["account"]
    made = voice.post(f"/account/{acc}/channels/voice",
                      {**EXAMPLE_1, "verbs": [{"say": {"text": ["Your pizza is outside!"]}}]}).json
    sent = []

    class PutDuringSay(media.SimulatorMediaServer):
        def say(self, say):
            if not sent:
                sent.append(voice.put(f"/account/{acc}/channels/voice/{made['id']}", NEW_VERBS).status_code)
            return super().say(say)

    monkeypatch.setattr(media, "media_server", PutDuringSay)
    assert _run(shop["admin"], made["id"]) == "completed"
    call = voice.get(f"/account/{acc}/channels/voice/{made['id']}").json
    assert sent == [204]
    assert [v["verb"] for v in call["verbsRun"]] == ["say", "say"] and call["cause"] == "updated"
    assert voice.put(f"/account/{acc}/channels/voice/{made['id']}", NEW_VERBS).status_code == 409


def test_a_put_to_a_queued_inbound_call_replaces_its_flow(voice, shop):
    acc = shop["account"]
    ddi = voice.get(f"/account/{acc}/ddi").json[0]["id"]
    made = voice.post(f"/account/{acc}/simulator/inbound", {"ddi": ddi, "from": "+441234567890"}).json
    assert voice.put(f"/account/{acc}/channels/voice/{made['id']}", NEW_VERBS).status_code == 204
    _run(shop["admin"], made["id"])
    call = voice.get(f"/account/{acc}/channels/voice/{made['id']}").json
    assert [v["verb"] for v in call["verbsRun"]] == ["say"] and call["cause"] == "updated"


def test_the_simulator_endpoint_is_off_by_default_on_deployed_stages(monkeypatch):
    from chalicelib.adapters import media

    monkeypatch.delenv("VOICE_SIMULATOR_ENDPOINT", raising=False)
    for stage, expected in (("local", True), ("test", True), ("dev", False), ("staging", False), ("prod", False)):
        monkeypatch.setenv("DIALTONE_STAGE", stage)
        assert media.simulator_endpoint() is expected, stage


# (The test client sets the stage's configured variables around each request, so the
# stage itself cannot be switched here: the test above checks its default.)
@pytest.mark.parametrize("setting", [{"VOICE_SIMULATOR_ENDPOINT": "0"},
                                     {"VOICE_MEDIA_ADAPTER": "some.real.adapter:MediaServer"}])
def test_the_simulator_endpoint_exists_only_with_the_simulator_where_the_stage_allows_it(voice, shop, monkeypatch,
                                                                                         setting):
    acc = shop["account"]
    ddi = voice.get(f"/account/{acc}/ddi").json[0]["id"]
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    for token in (voice.token, "not-a-token"):
        reply = voice.post(f"/account/{acc}/simulator/inbound", {"ddi": ddi, "from": "+441234567890"}, token=token)
        assert reply.status_code == 404 and reply.json["status"] == 404 and reply.json["error"] == "Not Found"
    monkeypatch.undo()
    assert voice.get(f"/account/{acc}/channels/voice").json == []
    made = voice.post(f"/account/{acc}/simulator/inbound", {"ddi": ddi, "from": "+441234567890"})
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("body, pointer", [
    ({**EXAMPLE_1, "callerId": "+441234567899"}, "/callerId"),
    ({**EXAMPLE_2, "verbs": [EXAMPLE_2["verbs"][0], {"dial": {**EXAMPLE_2["verbs"][1]["dial"],
                                                              "callerId": "+12065550199"}}]},
     "/verbs/1/dial/callerId"),
])
def test_a_call_presents_only_the_accounts_active_numbers(voice, shop, body, pointer):
    acc = shop["account"]
    reply = voice.post(f"/account/{acc}/channels/voice", body)
    assert reply.status_code == 400 and reply.json["pointer"] == pointer, reply.text
    assert "not an active DDI" in reply.json["message"]
    assert voice.get(f"/account/{acc}/channels/voice").json == []
    # Its own numbers, either of them.
    for caller in (DOCUMENT_NUMBER, "+12065550100"):
        assert voice.post(f"/account/{acc}/channels/voice", {**EXAMPLE_1, "callerId": caller}).status_code == 201


def test_a_put_presents_only_the_accounts_active_numbers(voice, shop):
    acc = shop["account"]
    made = voice.post(f"/account/{acc}/channels/voice", EXAMPLE_1).json
    reply = voice.put(f"/account/{acc}/channels/voice/{made['id']}", {"verbs": [{"dial": {
        "callerId": "+441234567899", "targets": [{"phoneNumber": {"number": "+441234567891"}}]}}]})
    assert reply.status_code == 400 and reply.json["pointer"] == "/verbs/0/dial/callerId", reply.text


def test_the_default_caller_id_is_the_mbn_the_account_has_when_the_call_is_made(voice, admin):
    from chalicelib.services.numbers import inventory

    customer = make_account(admin, name="Moving Co", numbers=("2065550120", "2065550121"))
    acc = account_ref(admin, customer)
    assert voice.get(f"/account/{acc}").json["mbn"] == "12065550120"  # recorded on the account
    inventory.update_numbers(principal=admin, customer=customer, numbers=["2065550120"], status="inactive")
    body = {"target": {"phoneNumber": {"number": "+441234567893"}}, "verbs": [{"say": {"text": ["hi"]}}]}
    made = voice.post(f"/account/{acc}/channels/voice", body)
    assert made.status_code == 201 and made.json["callerId"] == "+12065550121", made.text
    assert voice.get(f"/account/{acc}").json["mbn"] == "12065550121"
    inventory.update_numbers(principal=admin, customer=customer, numbers=["2065550121"], status="inactive")
    refused = voice.post(f"/account/{acc}/channels/voice", body)
    assert refused.status_code == 400 and refused.json["pointer"] == "/callerId"


class _Recording:
    """The simulator, recording what call control asks of the media server."""

    def __init__(self, answered_by: int = 0):
        from chalicelib.adapters import media

        self.legs, self.answered_by = [], answered_by
        outer = self

        class Server(media.SimulatorMediaServer):
            bridging = False

            def originate(self, target, *, caller_id, ring_timeout):
                if not self.bridging:  # (the simulator's bridge originates each of its targets)
                    outer.legs.append(("originate", dict(target), caller_id))
                leg = super().originate(target, caller_id=caller_id, ring_timeout=ring_timeout)
                leg.route_index = outer.answered_by if "route" in target else 0
                return leg

            def bridge(self, targets, *, caller_id, timeout, time_limit):
                outer.legs.append(("bridge", [dict(t) for t in targets], caller_id))
                self.bridging = True
                try:
                    return super().bridge(targets, caller_id=caller_id, timeout=timeout, time_limit=time_limit)
                finally:
                    self.bridging = False

        self.server = Server


@pytest.fixture()
def pbx(voice, admin, monkeypatch):
    """An account whose SIP_GATEWAY (extension 604) has two trunks: IPv4, then IPv6 on 5070."""
    from chalicelib.adapters import media

    customer = make_account(admin, name="PBX Co", numbers=("2065550130",), own_numbers=(DOCUMENT_NUMBER,))
    acc = account_ref(admin, customer)
    first = voice.post(f"/account/{acc}/trunk", TRUNK).json["id"]
    second = voice.post(f"/account/{acc}/trunk", {**TRUNK, "ip": "2001:4860:4860::8888", "port": 5070}).json["id"]
    device = gateway(first, "604")
    device["sipGateway"].update(trunks=[first, second], present="mbn", record=True)
    made = voice.post(f"/account/{acc}/device", device)
    assert made.status_code == 201, made.text
    recording = _Recording()
    monkeypatch.setattr(media, "media_server", lambda: recording.server())
    return {"account": acc, "trunks": [first, second], "gateway": made.json["id"], "recording": recording,
            "admin": admin}


def test_an_extension_target_reaches_the_pbx_on_every_gateway_trunk_in_order(voice, pbx):
    acc = pbx["account"]
    made = voice.post(f"/account/{acc}/channels/voice", EXAMPLE_2).json
    assert _run(pbx["admin"], made["id"]) == "completed"
    (kind, target, caller), (dial, dialled, _) = pbx["recording"].legs
    assert kind == "originate" and target["sipUri"] == {"uri": "sip:201@1.1.1.1:5060"}  # overrideTo behind 604
    assert target["route"]["uris"] == ["sip:201@1.1.1.1:5060", "sip:201@[2001:4860:4860::8888]:5070"]
    assert target["route"]["trunks"] == pbx["trunks"]
    assert (target["route"]["present"], target["route"]["record"]) == ("mbn", True)
    assert caller == DOCUMENT_NUMBER  # present: mbn (the account's mbn, not the call's callerId)
    assert dial == "bridge" and dialled == [{"phoneNumber": {"number": "+441234567891"}}]  # not a gateway's


def test_a_device_target_and_a_dial_to_an_extension_are_resolved_too(voice, pbx):
    acc = pbx["account"]
    made = voice.post(f"/account/{acc}/channels/voice", {
        "target": {"device": {"id": pbx["gateway"]}},
        "verbs": [{"dial": {"targets": [{"extension": {"extension": "604"}}]}}]}).json
    _run(pbx["admin"], made["id"])
    (_, target, _), (_, dialled, _) = pbx["recording"].legs
    assert target["route"]["uris"][0] == "sip:604@1.1.1.1:5060"  # the device's own extension
    assert [t["sipUri"]["uri"] for t in dialled] == ["sip:604@1.1.1.1:5060"]


def test_an_inbound_call_is_bridged_to_the_pbx_and_counted_on_the_trunk_that_took_it(voice, pbx):
    from chalicelib.domain.voice import parse_opaque_id
    from chalicelib.store.voice import calls as store

    from tests.support.surfaces.voice import route_start

    acc, admin = pbx["account"], pbx["admin"]
    ddi = next(d for d in voice.get(f"/account/{acc}/ddi").json if d["name"] == "12065550130")
    assert voice.post(f"/account/{acc}/device", route_start(ddi["id"], pbx["gateway"], "600")).status_code == 201
    pbx["recording"].answered_by = 1  # the first trunk failed over to the second
    made = voice.post(f"/account/{acc}/simulator/inbound", {"ddi": ddi["id"], "from": "+441234567899"}).json
    _run(admin, made["id"])
    (kind, (target,), caller), = pbx["recording"].legs
    assert kind == "bridge" and target["route"]["uris"][1] == "sip:12065550130@[2001:4860:4860::8888]:5070"
    assert target["route"]["caller"] == "+441234567899"
    stored = store.get_call(admin.tenant_id, parse_opaque_id(admin.tenant_id, "VCALL", made["id"], uuid=True))
    assert stored["trunkRef"] == pbx["trunks"][1]
