"""The voice API's OpenAPI description is valid, and real answers of every
documented operation match it."""
from __future__ import annotations

import re
from typing import Any

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests.support.surfaces.voice import ADDRESS, EVENT_HOOK, TRUNK, account_ref, gateway, make_account, route_start


def _resolve(node: Any, spec: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolve(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]], spec)
        return {k: _resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


def check(spec: dict[str, Any], method: str, path: str, reply: Any) -> None:
    template = next((t for t in spec["paths"] if re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$", path)), None)
    assert template, f"{path} is not documented"
    answers = spec["paths"][template][method.lower()]["responses"]
    assert str(reply.status_code) in answers, (method, path, reply.status_code)
    content = answers[str(reply.status_code)].get("content")
    if reply.status_code == 204 or content is None:
        assert reply.text == ""
        return
    OAS30Validator(_resolve(content["application/json"]["schema"], spec)).validate(reply.json)


def test_documented_and_answers_match(voice, admin):
    spec = voice.get("/openapi.json", token="none").json
    validate(spec)
    customer = make_account(admin, numbers=("2065550150",))
    acc = account_ref(admin, customer)

    def go(method: str, path: str, body: Any = None, **kw: Any) -> Any:
        reply = voice.call(method, path, body, **kw)
        check(spec, method, path, reply)
        return reply

    go("GET", "/userAccounts/me")
    go("GET", "/account")
    go("GET", f"/account/{acc}")
    go("PUT", f"/account/{acc}/address", ADDRESS)
    go("GET", f"/account/{acc}/address")
    ddi = go("GET", f"/account/{acc}/ddi").json[0]["id"]
    trunk = go("POST", f"/account/{acc}/trunk", TRUNK).json["id"]
    go("GET", f"/account/{acc}/trunk")
    go("GET", f"/account/{acc}/trunk/{trunk}")
    go("PUT", f"/account/{acc}/trunk/{trunk}", TRUNK)
    hook = go("POST", f"/account/{acc}/hook", EVENT_HOOK).json["id"]
    go("GET", f"/account/{acc}/hook")
    go("GET", f"/account/{acc}/hook/{hook}")
    go("PUT", f"/account/{acc}/hook/{hook}", EVENT_HOOK)
    go("POST", f"/account/{acc}/hook/{hook}/signingSecret")
    go("GET", f"/account/{acc}/hook/{hook}/deliveries")
    gw = go("POST", f"/account/{acc}/device", gateway(trunk, "604")).json["id"]
    start = go("POST", f"/account/{acc}/device", route_start(ddi, gw)).json["id"]
    go("GET", f"/account/{acc}/device")
    go("GET", f"/account/{acc}/device/{start}")
    go("PUT", f"/account/{acc}/device/{start}", route_start(ddi, "HANGUP"))
    go("DELETE", f"/account/{acc}/trunk/{trunk}")  # 409: used by the gateway
    call = go("POST", f"/account/{acc}/channels/voice", {
        "target": {"phoneNumber": {"number": "+15005550006"}}, "verbs": [{"say": {"text": ["hi"]}}]}).json["id"]
    go("GET", f"/account/{acc}/channels/voice")
    go("GET", f"/account/{acc}/channels/voice/{call}")
    go("PUT", f"/account/{acc}/channels/voice/{call}", {"verbs": [{"hangup": {}}]})
    go("DELETE", f"/account/{acc}/channels/voice/{call}")
    go("POST", f"/account/{acc}/simulator/inbound", {"ddi": ddi, "from": "+441234567890"})
    go("POST", f"/account/{acc}/channels/voice", {"verbs": []})  # 400
    go("GET", "/account/000000000000000000000000")  # 404
    go("DELETE", f"/account/{acc}/device/{start}")
    go("DELETE", f"/account/{acc}/device/{gw}")
    go("DELETE", f"/account/{acc}/hook/{hook}")
    go("DELETE", f"/account/{acc}/trunk/{trunk}")
    assert voice.get("/oauth/jwks").json["keys"][0]["alg"] == "RS256"
