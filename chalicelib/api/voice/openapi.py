"""The OpenAPI 3 description of the voice API, served at /api/v1/openapi.json.
Built on request; the surface tests validate real responses against it."""
from __future__ import annotations

from typing import Any

from chalicelib.domain import voice as rules
from chalicelib.api.http import rate_limits
from chalicelib.api.voice import openapi_inputs as inputs

ID24 = {"type": "string", "pattern": "^[0-9a-f]{24}$", "description": "opaque, stable"}
UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
STAMP = {"type": "string", "format": "date-time"}
TARGET = {"type": "string", "description": "a device id of the same account, or HANGUP"}


def _obj(properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "object", "properties": properties}
    wanted = list(properties) if required is None else required
    if wanted:  # OpenAPI 3.0 refuses an empty required list
        found["required"] = wanted
    if closed:
        found["additionalProperties"] = False
    return found


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    say = _obj({"text": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20},
                "voice": {"type": "string", "enum": ["female", "male"]}, "language": {"type": "string"},
                "loop": {"type": "integer", "minimum": 1, "maximum": 10}}, ["text"])
    play = _obj({"url": {"type": "string", "format": "uri"}, "loop": {"type": "integer"}}, ["url"])
    device_sections = {
        "startRoute": _obj({"ddis": {"type": "array", "items": ID24}, "connectTo": TARGET}),
        "sipGateway": _obj({"ringTime": {"type": "integer"}, "maxCallTime": {"type": "integer"},
                            "record": {"type": "boolean"}, "trunks": {"type": "array", "items": UUID},
                            "present": {"type": "string", "enum": list(rules.PRESENT)},
                            "countryCode": {"type": "string"}, "onComplete": TARGET, "onFail": TARGET,
                            "onNoAnswer": TARGET, "onBusy": TARGET}),
        "announcement": _obj({"say": say, "play": play, "connectTo": TARGET}, ["connectTo"]),
        "timeSwitch": _obj({"timezone": {"type": "string"}, "ranges": {"type": "array", "items": _obj({
            "days": {"type": "array", "items": {"type": "string", "enum": list(rules.DAYS)}},
            "start": {"type": "string"}, "end": {"type": "string"}})}, "onMatch": TARGET, "onNoMatch": TARGET}),
        "flowHook": _obj({"hook": UUID, "timeout": {"type": "integer"}, "onFail": TARGET}),
        "menu": _obj({"say": say, "options": {"type": "object", "additionalProperties": TARGET},
                      "timeout": {"type": "integer"}, "onNoInput": TARGET}),
    }
    hook_props = {"id": UUID, "app": {"type": "string", "enum": [rules.FLOW_APP, rules.EVENT_APP]},
                  "url": {"type": "string"}, "authType": {"type": "string", "enum": list(rules.AUTH_TYPES)},
                  "method": {"type": "string", "enum": list(rules.HOOK_METHODS)},
                  "priority": {"type": "integer", "minimum": 0, "maximum": 1000,
                               "description": "lower first: an event's deliveries are recorded and queued to "
                                              "hooks in ascending priority (a head start, not an order of "
                                              "arrival); each hook gets one call's events in sequence order"}}
    return {
        **inputs.schemas(),
        "Error": _obj({"status": {"type": "integer"}, "error": {"type": "string"}, "message": {"type": "string"},
                       "pointer": {"type": "string", "description": "JSON pointer to the offending input"}},
                      ["status", "error", "message"]),
        "OAuthError": _obj({"error": {"type": "string", "enum": ["invalid_request", "invalid_grant", "slow_down"]},
                            "error_description": {"type": "string"}}),
        "Tokens": _obj({"access_token": {"type": "string", "description": "RS256 JWT; keys at /oauth/jwks"},
                        "refresh_token": {"type": "string", "description": "opaque, single use, rotates"},
                        "token_type": {"type": "string", "enum": ["Bearer"]},
                        "expires_in": {"type": "integer", "enum": [3600]},
                        "refresh_expires_in": {"type": "integer", "enum": [36000]}}),
        "Jwks": _obj({"keys": {"type": "array", "items": _obj({
            "kty": {"type": "string", "enum": ["RSA"]}, "use": {"type": "string"}, "alg": {"type": "string"},
            "kid": {"type": "string"}, "n": {"type": "string"}, "e": {"type": "string"}})}}),
        "Organisation": _obj({"id": ID24, "name": {"type": "string"}}),
        "AccountSummary": _obj({"id": ID24, "name": {"type": "string"}}),
        "Account": _obj({"id": ID24, "name": {"type": "string"},
                         "mbn": {"type": "string", "description": "main billing number, E.164 digits without +"},
                         "domain": {"type": "string", "description": "SIP domain label, unique per organisation"}}),
        "Address": _obj({"line1": {"type": "string", "nullable": True,
                                   "description": "null, as every field, until an address is set"},
                         "line2": {"type": "string", "nullable": True},
                         "level1": {"type": "string", "nullable": True, "description": "county / state"},
                         "level2": {"type": "string", "nullable": True, "description": "town / city"},
                         "postalCode": {"type": "string", "nullable": True},
                         "country": {"type": "string", "nullable": True}}, ["line1", "country"]),
        "Ddi": _obj({"id": ID24, "name": {"type": "string", "description": "E.164 digits without +"}}),
        "Trunk": _obj({"id": UUID, "ip": {"type": "string", "description": "public IPv4 or IPv6"},
                       "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                       "vendor": {"type": "string", "enum": list(rules.VENDORS)},
                       "callerFormat": {"type": "string", "enum": list(rules.NUMBER_FORMATS)},
                       "calledFormat": {"type": "string", "enum": list(rules.NUMBER_FORMATS)},
                       "description": {"type": "string"}, "zone": {"type": "string", "enum": list(rules.ZONES)},
                       "countryCode": {"type": "string", "description": "ISO 3166-1 alpha-2"}}),
        "Hook": _obj(hook_props),
        "HookCreated": _obj({**hook_props, "signingSecret": {"type": "string", "description": "shown once"}}),
        "Delivery": _obj({"deliveryId": {"type": "string"}, "event": {"type": "string"}, "callId": UUID,
                          "sequence": {"type": "integer"},
                          "status": {"type": "string", "enum": ["pending", "delivered", "dead-lettered", "canceled"]},
                          "createdAt": STAMP, "attempts": {"type": "array", "items": _obj({
                              "at": STAMP, "status": {"type": "integer", "nullable": True},
                              "error": {"type": "string", "nullable": True},
                              "ms": {"type": "integer", "nullable": True}}, ["at"])}}),
        "Device": _obj({"id": UUID, "type": {"type": "string", "enum": list(rules.DEVICE_TYPES)},
                        "name": {"type": "string"}, "extension": {"type": "string"}, **device_sections},
                       ["id", "type", "name"]),
        "Call": _obj({"id": UUID, "account": ID24, "direction": {"type": "string", "enum": ["outbound", "inbound"]},
                      "state": {"type": "string", "enum": [*rules.LIVE_STATES, *rules.FINAL_STATES]},
                      "callerId": {"type": "string"}, "to": {"type": "string"}, "target": {"type": "object"},
                      "tag": {"type": "object"}, "verbs": {"type": "array", "items": {"type": "object"}},
                      "verbsRun": {"type": "array", "items": {"type": "object"}},
                      "digits": {"type": "array", "items": {"type": "string"}},
                      "history": {"type": "array", "items": {"type": "object"}},
                      "createdAt": STAMP, "initiatedAt": STAMP, "answeredAt": STAMP, "endedAt": STAMP,
                      "duration": {"type": "integer", "description": "seconds from answer to end"},
                      "cause": {"type": "string"}},
                     ["id", "account", "direction", "state", "target", "verbs", "history", "createdAt"]),
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _answers(ok: int, schema: dict[str, Any] | None, *, errors: tuple[int, ...] = (400, 401, 403, 404, 415)) -> dict[str, Any]:
    found: dict[str, Any] = {str(ok): {"description": "OK" if ok != 204 else "No Content"}}
    if schema is not None:
        found[str(ok)]["content"] = _json(schema)
    if ok == 201:
        found["201"]["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new resource"}}
    for status in errors:
        found[str(status)] = {"description": "error", "content": _json(_ref("Error"))}
    return found


def _op(summary: str, ok: int, schema: dict[str, Any] | None, *, body: str | None = None,
        errors: tuple[int, ...] = (400, 401, 403, 404, 415)) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": _answers(ok, schema, errors=errors)}
    if body:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    return op


@rate_limits.documented
def spec() -> dict[str, Any]:
    from chalicelib.auth import access_tokens

    account = {"name": "id", "in": "path", "required": True, "schema": ID24}

    def item(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": UUID}

    many = lambda name: {"type": "array", "items": _ref(name)}  # noqa: E731
    paths: dict[str, Any] = {
        "/oauth/authorize": {"post": {
            "summary": "Password grant (username, password) or refresh (token); refresh tokens rotate and a "
                       "reused one revokes its family. Failed grants are throttled per username and address (429).",
            "security": [],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "description": "username and password (the password grant), or token (a refresh)",
                "oneOf": [_obj({"username": inputs.text(256), "password": {"type": "string"}}),
                          _obj({"token": inputs.text(4096)})]}}}},
            "responses": {"200": {"description": "tokens", "content": _json(_ref("Tokens"))},
                          **{str(s): {"description": "error", "content": _json(_ref("OAuthError"))}
                             for s in (400, 401, 415, 429)}}}},
        "/oauth/jwks": {"get": {"summary": "The signing keys as a JWK Set (also /.well-known/jwks.json)",
                                "security": [], "responses": {"200": {"description": "keys",
                                                                      "content": _json(_ref("Jwks"))}}}},
        "/userAccounts/me": {"get": _op("The organisation", 200, _ref("Organisation"))},
        "/account": {"get": _op("Accounts the caller may see", 200, many("AccountSummary"))},
        "/account/{id}": {"parameters": [account], "get": _op("One account", 200, _ref("Account"))},
        "/account/{id}/address": {"parameters": [account], "get": _op("Its address", 200, _ref("Address")),
                                  "put": _op("Replace its address", 204, None, body="AddressInput")},
        "/account/{id}/ddi": {"parameters": [account], "get": _op("Its active numbers", 200, many("Ddi"))},
        "/account/{id}/trunk": {"parameters": [account], "get": _op("Its SIP trunks", 200, many("Trunk")),
                                "post": _op("Add a trunk", 201, _ref("Trunk"), body="TrunkInput")},
        "/account/{id}/trunk/{trunkId}": {
            "parameters": [account, item("trunkId")], "get": _op("One trunk", 200, _ref("Trunk")),
            "put": _op("Replace a trunk", 204, None, body="TrunkInput"),
            "delete": _op("Remove a trunk (409 while a SIP_GATEWAY uses it)", 204, None,
                          errors=(401, 403, 404, 409))},
        "/account/{id}/hook": {"parameters": [account], "get": _op("Its hooks", 200, many("Hook")),
                               "post": _op("Add a hook; signingSecret is answered once", 201, _ref("HookCreated"),
                                           body="HookInput")},
        "/account/{id}/hook/{hookId}": {
            "parameters": [account, item("hookId")], "get": _op("One hook", 200, _ref("Hook")),
            "put": _op("Replace a hook", 204, None, body="HookInput"),
            "delete": _op("Remove a hook (409 while a FLOW_HOOK uses it)", 204, None, errors=(401, 403, 404, 409))},
        "/account/{id}/hook/{hookId}/signingSecret": {
            "parameters": [account, item("hookId")],
            "post": _op("Rotate the signing secret (answered once)", 200,
                        _obj({"signingSecret": {"type": "string"}}))},
        "/account/{id}/hook/{hookId}/deliveries": {
            "parameters": [account, item("hookId")],
            "get": _op("Events sent to the hook, newest call first: attempts and outcome", 200, many("Delivery"))},
        "/account/{id}/device": {"parameters": [account], "get": _op("Its flow devices", 200, many("Device")),
                                 "post": _op("Add a device", 201, _ref("Device"), body="DeviceInput")},
        "/account/{id}/device/{deviceId}": {
            "parameters": [account, item("deviceId")], "get": _op("One device", 200, _ref("Device")),
            "put": _op("Replace a device", 204, None, body="DeviceInput"),
            "delete": _op("Remove a device (409 while another names it)", 204, None, errors=(401, 403, 404, 409))},
        "/account/{id}/channels/voice": {
            "parameters": [account],
            "get": _op("Its calls, oldest first (limit, after)", 200, many("Call")),
            "post": _op("Create an outbound call (queued)", 201, _ref("Call"), body="CallInput")},
        "/account/{id}/channels/voice/{callId}": {
            "parameters": [account, item("callId")], "get": _op("One call", 200, _ref("Call")),
            "put": _op("Replace the verbs still to run of a live call. A 204 always takes effect: a queued call "
                       "starts with these verbs, an inbound call leaves its flow for them, and a call running "
                       "its last verb runs them before it ends (409 once it is ending or has ended)", 204, None,
                       body="CallUpdate", errors=(400, 401, 403, 404, 409, 415)),
            "delete": _op("Hang up a live call", 204, None, errors=(401, 403, 404, 409))},
        "/account/{id}/simulator/inbound": {
            "parameters": [account],
            "post": _op("Simulator: an inbound call to a DDI runs the account's flow. Exists only with the "
                        "simulator media adapter where VOICE_SIMULATOR_ENDPOINT=1 (local and test stages); "
                        "elsewhere 404, as a path that does not exist", 201, _ref("Call"), body="InboundCall")},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone voice API", "version": "1",
                 "description": "Seed 004. Bearer access tokens from /oauth/authorize (RS256 JWT; JWKS at "
                                f"{access_tokens.jwks_url()}). Roles: OrganisationAdmin may do everything; "
                                "VoiceChannel creates, reads, updates and ends calls and reads; other users read "
                                "within their customer access; a customer-bound user sees only its account. "
                                "See docs/voice-api.md."},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": _schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
