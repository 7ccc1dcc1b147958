"""The voice platform's rules, pure Python: opaque ids, the role matrix,
addresses, SIP trunks, hooks, flow devices (and the flow graph they make),
voice-call requests and their verbs.

Every refusal is a ValidationError whose ``field`` is a JSON pointer (RFC 6901)
to the offending element of the request body, e.g. ``/verbs/1/dial/timeout``.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from chalicelib.domain.countries import COUNTRIES, country_code
from chalicelib.domain.errors import PermissionDeniedError, UnknownFieldError, ValidationError
from chalicelib.domain.identity import ROLE_ADMIN, Principal

ROLE_VOICE_CHANNEL = "VoiceChannel"
HANGUP = "HANGUP"

# ------------------------------------------------------------------ opaque ids
# The document's ids are opaque strings: 24 hex digits for organisations,
# accounts and DDIs, UUID-shaped for trunks, hooks, devices and calls. Each is
# derived from (tenant, kind, integer id): a tenant- and kind-specific prefix
# and the id XOR a mask, so it is stable, needs no lookup item, and one
# tenant's ids never decode in another tenant (the prefix differs).
ID_BITS = 48
_ID_MASK = (1 << ID_BITS) - 1


def _salt(tenant: str, kind: str) -> bytes:
    return hashlib.sha256(f"dialtone-voice:{tenant}:{kind}".encode()).digest()


def opaque_id(tenant: str, kind: str, number: int, *, uuid: bool = False) -> str:
    salt = _salt(tenant, kind)
    mask = int.from_bytes(salt[:6], "big")
    tail = f"{(number ^ mask) & _ID_MASK:012x}"
    if not uuid:
        return salt[6:12].hex() + tail
    head = salt[6:16].hex()
    return f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:20]}-{tail}"


def parse_opaque_id(tenant: str, kind: str, text: Any, *, uuid: bool = False) -> int | None:
    """The integer id behind an opaque id of this tenant and kind, or None."""
    if not isinstance(text, str):
        return None
    salt = _salt(tenant, kind)
    value = text.strip().lower()
    if uuid:
        head = salt[6:16].hex()
        prefix = f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:20]}-"
    else:
        prefix = salt[6:12].hex()
    tail = value[len(prefix):]
    if not value.startswith(prefix) or len(tail) != 12 or not all(c in "0123456789abcdef" for c in tail):
        return None
    number = int(tail, 16) ^ int.from_bytes(salt[:6], "big")
    return number if 0 < number < 10**12 else None


# ------------------------------------------------------------------ roles
READ = "read"
CONFIGURE = "configure"   # address, trunks, hooks, devices
CALLS = "calls"           # create, update and end voice calls

# What each role may do beyond reading (docs/voice-api.md "Roles"). Reading is
# open to every authenticated user, within its customer access.
ROLE_MATRIX: dict[str, frozenset[str]] = {
    ROLE_ADMIN: frozenset({READ, CONFIGURE, CALLS}),
    ROLE_VOICE_CHANNEL: frozenset({READ, CALLS}),
}


def require(principal: Principal, action: str) -> None:
    """PermissionDeniedError (403) with the reason when no role of the caller allows ``action``."""
    if action == READ:
        principal.require_read()
        return
    if not any(action in ROLE_MATRIX.get(role, ()) for role in principal.roles):
        needed = " or ".join(sorted(r for r, allowed in ROLE_MATRIX.items() if action in allowed))
        raise PermissionDeniedError(f"this needs the role {needed}")
    principal.require_write()


# ------------------------------------------------------------------ helpers

def _fail(pointer: str, message: str) -> ValidationError:
    return ValidationError(f"{pointer or '/'}: {message}", field=pointer or "/")


def _object(value: Any, pointer: str, allowed: Iterable[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(pointer, "must be an object")
    if isinstance(allowed, _AnyKey):
        return value
    allowed = set(allowed)
    for name in value:
        if name not in allowed:
            raise UnknownFieldError(f"{pointer}/{name}: unknown field", field=f"{pointer}/{name}")
    return value


def _string(value: Any, pointer: str, *, low: int = 1, high: int = 200, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        raise _fail(pointer, "must be a string")
    text = value.strip()
    if not low <= len(text) <= high:
        raise _fail(pointer, f"must be {low}-{high} characters")
    if pattern is not None and not pattern.match(text):
        raise _fail(pointer, "has an invalid format")
    return text


def _integer(value: Any, pointer: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(pointer, "must be an integer")
    if not low <= value <= high:
        raise _fail(pointer, f"must be between {low} and {high}")
    return int(value)


def _boolean(value: Any, pointer: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(pointer, "must be true or false")
    return value


def _enum(value: Any, pointer: str, choices: Sequence[str], *, fold: bool = False) -> str:
    if isinstance(value, str):
        for choice in choices:
            if value == choice or (fold and value.lower() == choice.lower()):
                return choice
    raise _fail(pointer, f"must be one of {', '.join(choices)}")


def _list(value: Any, pointer: str, low: int, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(pointer, "must be an array")
    if not low <= len(value) <= high:
        raise _fail(pointer, f"must have {low}-{high} elements")
    return value


def _required(body: Mapping[str, Any], name: str, pointer: str) -> Any:
    if body.get(name) is None:
        raise _fail(f"{pointer}/{name}", "is required")
    return body[name]


def _same_id(body: Mapping[str, Any], expected: str | None) -> None:
    # A PUT may repeat the resource's id (the document's examples do); it must be this one.
    if "id" in body and (expected is None or str(body["id"]).lower() != expected.lower()):
        raise _fail("/id", "is read-only" if expected is None else "does not match the resource in the path")


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164(value: Any, pointer: str) -> str:
    text = _string(value, pointer, low=8, high=16)
    if not E164.match(text):
        raise _fail(pointer, "must be an E.164 number such as +441234567890")
    return text


def country(value: Any, pointer: str) -> str:
    text = _string(value, pointer, low=2, high=2)
    if text.upper() != text or text not in COUNTRIES:
        raise _fail(pointer, "must be an ISO 3166-1 alpha-2 country code such as GB")
    return text


# ------------------------------------------------------------------ address
# The document's address fields -> the customer's (the same ones the billing API shows).
ADDRESS_FIELDS = {"line1": "address1", "line2": "address2", "level1": "state", "level2": "city",
                  "postalCode": "postcode", "country": "country"}
POSTAL_CODES: dict[str, re.Pattern[str]] = {
    "GB": re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"),
    "US": re.compile(r"^[0-9]{5}(-[0-9]{4})?$"),
    "CA": re.compile(r"^[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]$"),
    "IE": re.compile(r"^[A-Z][0-9][0-9W] ?[A-Z0-9]{4}$"),
    "AU": re.compile(r"^[0-9]{4}$"),
    "DE": re.compile(r"^[0-9]{5}$"),
    "FR": re.compile(r"^[0-9]{5}$"),
    "ES": re.compile(r"^[0-9]{5}$"),
    "IT": re.compile(r"^[0-9]{5}$"),
    "NL": re.compile(r"^[0-9]{4} ?[A-Z]{2}$"),
}


def address_input(body: Any) -> dict[str, Any]:
    """The customer fields of a PUT /account/{id}/address body (a full replacement)."""
    body = _object(body, "", ADDRESS_FIELDS)
    line1 = _string(_required(body, "line1", ""), "/line1")
    line2 = _string(body["line2"], "/line2", low=0) if body.get("line2") is not None else None
    level1 = _string(body["level1"], "/level1", low=0, high=100) if body.get("level1") is not None else None
    level2 = _string(_required(body, "level2", ""), "/level2", high=100)
    name = _string(_required(body, "country", ""), "/country", high=100)
    code = country_code(name)
    if code is None:
        raise _fail("/country", "is not a known country (a name such as United Kingdom, or an ISO code)")
    postal = body.get("postalCode")
    if code in POSTAL_CODES and postal is None:
        raise _fail("/postalCode", f"is required for {COUNTRIES[code]}")
    if postal is not None:
        postal = _string(postal, "/postalCode", high=20).upper()
        pattern = POSTAL_CODES.get(code)
        if pattern is not None and not pattern.match(postal):
            raise _fail("/postalCode", f"is not a valid postal code of {COUNTRIES[code]}")
    # Stored as given (the document shows a country's name); blanks clear.
    return {"address1": line1, "address2": line2 or None, "state": level1 or None, "city": level2,
            "postcode": postal or None, "country": name}


def address_view(customer: Mapping[str, Any]) -> dict[str, Any]:
    return {outer: customer.get(inner) for outer, inner in ADDRESS_FIELDS.items()}


# ------------------------------------------------------------------ trunks
VENDORS = ("generic", "asterisk", "freeswitch", "3cx", "cisco", "avaya", "mitel", "microsoft-teams",
           "grandstream", "yealink")
NUMBER_FORMATS = ("national", "international", "e164")
ZONES = ("eu-west-1", "eu-west-2", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2")
TRUNK_FIELDS = ("id", "ip", "port", "vendor", "callerFormat", "calledFormat", "description", "zone", "countryCode")
TRUNK_DEFAULTS = {"port": 5060, "vendor": "generic", "callerFormat": "national", "calledFormat": "national",
                  "zone": "eu-west-1"}


def public_ip(value: Any, pointer: str) -> str:
    text = _string(value, pointer, high=45)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise _fail(pointer, "must be an IPv4 or IPv6 address") from None
    if not address.is_global or address.is_multicast:
        raise _fail(pointer, "must be a public address the platform can reach")
    return str(address)


def trunk_input(body: Any, *, trunk_id: str | None = None) -> dict[str, Any]:
    """A trunk's fields from a POST (``trunk_id`` None) or PUT (full replacement) body."""
    body = _object(body, "", TRUNK_FIELDS)
    _same_id(body, trunk_id)
    values = {**TRUNK_DEFAULTS, **{k: v for k, v in body.items() if v is not None and k != "id"}}
    return {
        "ip": public_ip(_required(body, "ip", ""), "/ip"),
        "port": _integer(values["port"], "/port", 1, 65535),
        "vendor": _enum(values["vendor"], "/vendor", VENDORS),
        "callerFormat": _enum(values["callerFormat"], "/callerFormat", NUMBER_FORMATS),
        "calledFormat": _enum(values["calledFormat"], "/calledFormat", NUMBER_FORMATS),
        "description": _string(values.get("description", ""), "/description", low=0, high=200),
        "zone": _enum(values["zone"], "/zone", ZONES),
        "countryCode": country(_required(body, "countryCode", ""), "/countryCode"),
    }


# ------------------------------------------------------------------ hooks
FLOW_APP = "flow.generic"
EVENT_APP = "event.generic"
AUTH_TYPES = ("DISABLED", "BASIC", "BEARER", "SIGNED")
HOOK_METHODS = ("POST", "PUT")
HOOK_FIELDS = ("id", "app", "url", "authType", "method", "priority", "credentials")


def hook_input(body: Any, *, hook_id: str | None = None) -> dict[str, Any]:
    body = _object(body, "", HOOK_FIELDS)
    _same_id(body, hook_id)
    auth = _enum(body.get("authType", "DISABLED"), "/authType", AUTH_TYPES, fold=True)
    values: dict[str, Any] = {
        "app": _enum(_required(body, "app", ""), "/app", (FLOW_APP, EVENT_APP)),
        "url": hook_url(_required(body, "url", ""), "/url"),
        "authType": auth,
        "method": _enum(body.get("method", "POST"), "/method", HOOK_METHODS, fold=True),
        "priority": _integer(body.get("priority", 10), "/priority", 0, 1000),
    }
    credentials = body.get("credentials")
    if auth == "BASIC":
        given = _object(credentials, "/credentials", ("username", "password"))
        values["credentials"] = {"username": _string(_required(given, "username", "/credentials"),
                                                     "/credentials/username", high=128,
                                                     pattern=re.compile(r"^[^:]+$")),
                                 "password": _string(_required(given, "password", "/credentials"),
                                                     "/credentials/password", high=256)}
    elif auth == "BEARER":
        given = _object(credentials, "/credentials", ("token",))
        values["credentials"] = {"token": _string(_required(given, "token", "/credentials"),
                                                  "/credentials/token", high=2048,
                                                  pattern=re.compile(r"^[\x21-\x7e]+$"))}
    elif credentials is not None:
        raise _fail("/credentials", f"are only for authType BASIC or BEARER, not {auth}")
    return values


def hook_url(value: Any, pointer: str) -> str:
    text = _string(value, pointer, high=2048)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _fail(pointer, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(pointer, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise _fail(pointer, "must not carry credentials; use authType and credentials")
    if port == 0:
        raise _fail(pointer, "has an invalid port")
    return text


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why a hook may not be sent to this resolved address (None: it may)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast or not ip.is_global:
        return "a private or reserved address"
    return None


# ------------------------------------------------------------------ flow devices
ROUTE_START = "ROUTE_START"
SIP_GATEWAY = "SIP_GATEWAY"
ANNOUNCEMENT = "ANNOUNCEMENT"
TIME_SWITCH = "TIME_SWITCH"
FLOW_HOOK = "FLOW_HOOK"
MENU = "MENU"
DEVICE_TYPES = {ROUTE_START: "startRoute", SIP_GATEWAY: "sipGateway", ANNOUNCEMENT: "announcement",
                TIME_SWITCH: "timeSwitch", FLOW_HOOK: "flowHook", MENU: "menu"}
PRESENT = ("pass-through", "mbn", "withheld")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXTENSION = re.compile(r"^[0-9]{2,8}$")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _target(value: Any, pointer: str) -> str:
    if value == HANGUP:
        return HANGUP
    return _string(value, pointer, high=64)


def device_input(body: Any, *, device_id: str | None = None) -> dict[str, Any]:
    """A device's normalised definition (references not yet checked: see check_flow)."""
    body = _object(body, "", ("id", "type", "name", "extension", *DEVICE_TYPES.values()))
    _same_id(body, device_id)
    kind = _enum(_required(body, "type", ""), "/type", tuple(DEVICE_TYPES))
    section = DEVICE_TYPES[kind]
    for other in DEVICE_TYPES.values():
        if other != section and other in body:
            raise _fail(f"/{other}", f"does not belong to a {kind} device")
    device: dict[str, Any] = {"type": kind, "name": _string(_required(body, "name", ""), "/name", high=100)}
    if body.get("extension") is not None:
        device["extension"] = _string(body["extension"], "/extension", pattern=EXTENSION)
    pointer = f"/{section}"
    config = _required(body, section, "")
    device[section] = _DEVICE_PARSERS[kind](config, pointer)
    return device


def _start_route(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("ddis", "connectTo"))
    ddis = [_string(d, f"{p}/ddis/{n}", high=64) for n, d in enumerate(_list(config.get("ddis", []), f"{p}/ddis", 0, 100))]
    if len(set(ddis)) != len(ddis):
        raise _fail(f"{p}/ddis", "lists a DDI twice")
    return {"ddis": ddis, "connectTo": _target(_required(config, "connectTo", p), f"{p}/connectTo")}


def _sip_gateway(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("ringTime", "maxCallTime", "record", "trunks", "present", "countryCode",
                                 "onComplete", "onFail", "onNoAnswer", "onBusy"))
    trunks = [_string(t, f"{p}/trunks/{n}", high=64)
              for n, t in enumerate(_list(_required(config, "trunks", p), f"{p}/trunks", 1, 10))]
    return {
        "ringTime": _integer(config.get("ringTime", 60), f"{p}/ringTime", 1, 600),
        "maxCallTime": _integer(config.get("maxCallTime", 14400), f"{p}/maxCallTime", 1, 86400),
        "record": _boolean(config.get("record", False), f"{p}/record"),
        "trunks": trunks,
        "present": _enum(config.get("present", "pass-through"), f"{p}/present", PRESENT),
        "countryCode": country(config.get("countryCode", "GB"), f"{p}/countryCode"),
        **{name: _target(config.get(name, HANGUP), f"{p}/{name}")
           for name in ("onComplete", "onFail", "onNoAnswer", "onBusy")},
    }


def _announcement(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("say", "play", "connectTo"))
    if ("say" in config) == ("play" in config):
        raise _fail(p, "needs exactly one of say or play")
    media = {"say": _say(config["say"], f"{p}/say")} if "say" in config else {"play": _play(config["play"], f"{p}/play")}
    return {**media, "connectTo": _target(config.get("connectTo", HANGUP), f"{p}/connectTo")}


def _time_switch(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("timezone", "ranges", "onMatch", "onNoMatch"))
    zone = _string(config.get("timezone", "UTC"), f"{p}/timezone", high=64)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except Exception:  # noqa: BLE001 - any failure means the name is unusable
        raise _fail(f"{p}/timezone", "is not an IANA time zone such as Europe/London") from None
    ranges = []
    for n, entry in enumerate(_list(_required(config, "ranges", p), f"{p}/ranges", 1, 20)):
        q = f"{p}/ranges/{n}"
        entry = _object(entry, q, ("days", "start", "end"))
        days = [_enum(d, f"{q}/days/{m}", DAYS) for m, d in enumerate(_list(_required(entry, "days", q), f"{q}/days", 1, 7))]
        start = _string(_required(entry, "start", q), f"{q}/start", pattern=CLOCK)
        end = _string(_required(entry, "end", q), f"{q}/end", pattern=CLOCK)
        if end <= start:
            raise _fail(f"{q}/end", "must be after start")
        ranges.append({"days": days, "start": start, "end": end})
    return {"timezone": zone, "ranges": ranges, "onMatch": _target(_required(config, "onMatch", p), f"{p}/onMatch"),
            "onNoMatch": _target(_required(config, "onNoMatch", p), f"{p}/onNoMatch")}


def _flow_hook(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("hook", "timeout", "onFail"))
    return {"hook": _string(_required(config, "hook", p), f"{p}/hook", high=64),
            "timeout": _integer(config.get("timeout", 5), f"{p}/timeout", 1, 30),
            "onFail": _target(config.get("onFail", HANGUP), f"{p}/onFail")}


def _menu(config: Any, p: str) -> dict[str, Any]:
    config = _object(config, p, ("say", "options", "timeout", "onNoInput"))
    options = _object(_required(config, "options", p), f"{p}/options", [*"0123456789", "*", "#"])
    if not options:
        raise _fail(f"{p}/options", "needs at least one key")
    return {"say": _say(_required(config, "say", p), f"{p}/say"),
            "options": {key: _target(value, f"{p}/options/{key}") for key, value in options.items()},
            "timeout": _integer(config.get("timeout", 10), f"{p}/timeout", 1, 60),
            "onNoInput": _target(config.get("onNoInput", HANGUP), f"{p}/onNoInput")}


_DEVICE_PARSERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    ROUTE_START: _start_route, SIP_GATEWAY: _sip_gateway, ANNOUNCEMENT: _announcement,
    TIME_SWITCH: _time_switch, FLOW_HOOK: _flow_hook, MENU: _menu,
}


def device_edges(device: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(pointer, target, needs caller input) for every outgoing reference of a device."""
    kind = device["type"]
    section = DEVICE_TYPES[kind]
    config = device[section]
    base = f"/{section}"
    if kind == ROUTE_START or kind == ANNOUNCEMENT:
        return [(f"{base}/connectTo", config["connectTo"], False)]
    if kind == SIP_GATEWAY:
        return [(f"{base}/{n}", config[n], False) for n in ("onComplete", "onFail", "onNoAnswer", "onBusy")]
    if kind == TIME_SWITCH:
        return [(f"{base}/onMatch", config["onMatch"], False), (f"{base}/onNoMatch", config["onNoMatch"], False)]
    if kind == FLOW_HOOK:
        return [(f"{base}/onFail", config["onFail"], False)]
    return ([(f"{base}/options/{k}", v, True) for k, v in config["options"].items()]
            + [(f"{base}/onNoInput", config["onNoInput"], False)])


def check_flow(devices: Mapping[str, Mapping[str, Any]], changed: str, *, ddis: set[str], trunks: set[str],
               flow_hooks: set[str], hooks: set[str]) -> None:
    """Refuse the account's flow (every device by id, ``changed`` being the one
    written) when a reference of ``changed`` is unknown, a DDI starts two routes,
    an extension repeats, or the devices can loop without the caller pressing a key."""
    device = devices[changed]
    for pointer, target, _ in device_edges(device):
        if target != HANGUP and target not in devices:
            raise _fail(pointer, f"names no device of this account: '{target}'")
        if target == changed and device["type"] != MENU:
            raise _fail(pointer, "must not name the device itself")
    kind = device["type"]
    if kind == ROUTE_START:
        for n, ddi in enumerate(device["startRoute"]["ddis"]):
            if ddi not in ddis:
                raise _fail(f"/startRoute/ddis/{n}", f"'{ddi}' is not a DDI of this account")
            for other_id, other in devices.items():
                if other_id != changed and other["type"] == ROUTE_START and ddi in other["startRoute"]["ddis"]:
                    raise _fail(f"/startRoute/ddis/{n}", f"'{ddi}' already starts the route of device {other_id}")
    if kind == SIP_GATEWAY:
        for n, trunk in enumerate(device["sipGateway"]["trunks"]):
            if trunk not in trunks:
                raise _fail(f"/sipGateway/trunks/{n}", f"'{trunk}' is not a trunk of this account")
    if kind == FLOW_HOOK and device["flowHook"]["hook"] not in flow_hooks:
        where = "is an event hook, not a flow.generic hook" if device["flowHook"]["hook"] in hooks else \
            "is not a hook of this account"
        raise _fail("/flowHook/hook", f"'{device['flowHook']['hook']}' {where}")
    extension = device.get("extension")
    if extension is not None:
        for other_id, other in devices.items():
            if other_id != changed and other.get("extension") == extension:
                raise _fail("/extension", f"'{extension}' is already the extension of device {other_id}")
    cycle = find_loop(devices)
    if cycle:
        raise _fail("", "the flow could loop forever without the caller pressing a key: " + " -> ".join(cycle))


def find_loop(devices: Mapping[str, Mapping[str, Any]]) -> list[str] | None:
    """A cycle of references that need no caller input (a menu's keys do), if any."""
    graph = {d: [t for _, t, needs_input in device_edges(dev) if not needs_input and t in devices]
             for d, dev in devices.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def references_to(devices: Mapping[str, Mapping[str, Any]], target: str) -> list[str]:
    """Devices that name ``target`` (a device, trunk or hook id)."""
    users = []
    for device_id, device in devices.items():
        if device_id == target:
            continue
        names = {t for _, t, _ in device_edges(device)}
        if device["type"] == SIP_GATEWAY:
            names.update(device["sipGateway"]["trunks"])
        if device["type"] == FLOW_HOOK:
            names.add(device["flowHook"]["hook"])
        if target in names:
            users.append(device_id)
    return users


# ------------------------------------------------------------------ voice calls
VERBS = ("dial", "say", "play", "gather", "reject", "hangup", "redirect")
MAX_VERBS = 50
MAX_TAGS = 20
SIP_URI = re.compile(r"^sips?:[^@\s]+@[A-Za-z0-9.\-\[\]:]+(;[^\s]*)?$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
DIGITS_KEYS = re.compile(r"^[0-9*#]$")

LIVE_STATES = ("queued", "initiated", "ringing", "answered")
FINAL_STATES = ("completed", "busy", "no-answer", "failed", "canceled")


def call_input(body: Any) -> dict[str, Any]:
    """A POST /account/{id}/channels/voice body, normalised (callerId may be None: the account's mbn)."""
    body = _object(body, "", ("callerId", "tag", "target", "verbs"))
    caller = body.get("callerId")
    request: dict[str, Any] = {"callerId": None if caller in (None, "") else e164(caller, "/callerId")}
    request["tag"] = tag_input(body.get("tag"), "/tag")
    request["target"] = target_input(_required(body, "target", ""), "/target")
    request["verbs"] = verbs_input(_required(body, "verbs", ""), "/verbs")
    return request


def update_input(body: Any) -> list[dict[str, Any]]:
    """PUT on a live call: ``{"verbs": [...]}`` replaces what is left to run."""
    body = _object(body, "", ("verbs",))
    return verbs_input(_required(body, "verbs", ""), "/verbs")


def tag_input(value: Any, p: str) -> dict[str, Any]:
    if value is None:
        return {"data": {}}
    value = _object(value, p, ("data",))
    data = _object(value.get("data", {}), f"{p}/data", _AnyKey())
    if len(data) > MAX_TAGS:
        raise _fail(f"{p}/data", f"holds at most {MAX_TAGS} keys")
    out = {}
    for key, item in data.items():
        if not 1 <= len(key) <= 64:
            raise _fail(f"{p}/data", "keys must be 1-64 characters")
        out[key] = _string(item, f"{p}/data/{key}", low=0, high=256)
    return {"data": out}


class _AnyKey:
    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())


def target_input(value: Any, p: str) -> dict[str, Any]:
    value = _object(value, p, ("device", "sipUri", "phoneNumber", "extension"))
    if len(value) != 1:
        raise _fail(p, "needs exactly one of device, sipUri, phoneNumber or extension")
    (kind, config), = value.items()
    q = f"{p}/{kind}"
    if kind == "device":
        config = _object(config, q, ("id",))
        return {"device": {"id": _string(_required(config, "id", q), f"{q}/id", high=64)}}
    if kind == "sipUri":
        config = _object(config, q, ("uri",))
        return {"sipUri": {"uri": _string(_required(config, "uri", q), f"{q}/uri", high=256, pattern=SIP_URI)}}
    if kind == "phoneNumber":
        config = _object(config, q, ("number",))
        return {"phoneNumber": {"number": e164(_required(config, "number", q), f"{q}/number")}}
    config = _object(config, q, ("extension", "overrideTo"))
    out = {"extension": _string(_required(config, "extension", q), f"{q}/extension", pattern=EXTENSION)}
    if config.get("overrideTo") is not None:
        out["overrideTo"] = _string(config["overrideTo"], f"{q}/overrideTo", high=32,
                                    pattern=re.compile(r"^[0-9*#+]{1,32}$"))
    return {"extension": out}


def verbs_input(value: Any, p: str, *, nested: bool = False) -> list[dict[str, Any]]:
    verbs = _list(value, p, 1, MAX_VERBS)
    return [verb_input(v, f"{p}/{n}", nested=nested) for n, v in enumerate(verbs)]


def verb_input(value: Any, p: str, *, nested: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(p, f"must be an object with exactly one verb: {', '.join(VERBS)}")
    (name, config), = value.items()
    if name not in VERBS:
        raise UnknownFieldError(f"{p}/{name}: unknown verb (one of {', '.join(VERBS)})", field=f"{p}/{name}")
    if nested and name not in ("say", "play"):
        raise _fail(f"{p}/{name}", "only say and play may prompt a gather")
    return {name: _VERB_PARSERS[name](config, f"{p}/{name}")}


def _say(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("text", "voice", "language", "loop"))
    texts = [_string(t, f"{q}/text/{n}", high=2000) for n, t in enumerate(_list(_required(config, "text", q), f"{q}/text", 1, 20))]
    out: dict[str, Any] = {"text": texts, "loop": _integer(config.get("loop", 1), f"{q}/loop", 1, 10)}
    if config.get("voice") is not None:
        out["voice"] = _enum(config["voice"], f"{q}/voice", ("female", "male"))
    if config.get("language") is not None:
        out["language"] = _string(config["language"], f"{q}/language", high=20, pattern=LANGUAGE)
    return out


def _play(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("url", "loop"))
    url = _string(_required(config, "url", q), f"{q}/url", high=2048)
    if urlsplit(url).scheme != "https":
        raise _fail(f"{q}/url", "must be an https URL of an audio file")
    return {"url": url, "loop": _integer(config.get("loop", 1), f"{q}/loop", 1, 10)}


def _gather(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("numDigits", "timeout", "finishOnKey", "prompt"))
    out: dict[str, Any] = {"numDigits": _integer(config.get("numDigits", 1), f"{q}/numDigits", 1, 32),
                           "timeout": _integer(config.get("timeout", 5), f"{q}/timeout", 1, 60)}
    if config.get("finishOnKey") is not None:
        out["finishOnKey"] = _string(config["finishOnKey"], f"{q}/finishOnKey", pattern=DIGITS_KEYS)
    if config.get("prompt") is not None:
        out["prompt"] = verbs_input(config["prompt"], f"{q}/prompt", nested=True)
    return out


def _dial(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("callerId", "timeout", "timeLimit", "targets", "record"))
    out: dict[str, Any] = {
        "timeout": _integer(config.get("timeout", 30), f"{q}/timeout", 1, 600),
        "timeLimit": _integer(config.get("timeLimit", 14400), f"{q}/timeLimit", 1, 86400),
        "targets": [target_input(t, f"{q}/targets/{n}")
                    for n, t in enumerate(_list(_required(config, "targets", q), f"{q}/targets", 1, 10))],
        "record": _boolean(config.get("record", False), f"{q}/record"),
    }
    if config.get("callerId") not in (None, ""):
        out["callerId"] = e164(config["callerId"], f"{q}/callerId")
    return out


def _reject(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("reason",))
    return {"reason": _enum(config.get("reason", "rejected"), f"{q}/reason", ("rejected", "busy"))}


def _hangup(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("reason",))
    return {"reason": _string(config.get("reason", "normal"), f"{q}/reason", high=64,
                              pattern=re.compile(r"^[A-Za-z0-9_.\-]+$"))}


def _redirect(config: Any, q: str) -> dict[str, Any]:
    config = _object(config, q, ("device", "hook"))
    if len(config) != 1:
        raise _fail(q, "needs exactly one of device (a flow device id) or hook (a flow.generic hook id)")
    (kind, ident), = config.items()
    return {kind: _string(ident, f"{q}/{kind}", high=64)}


_VERB_PARSERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "dial": _dial, "say": _say, "play": _play, "gather": _gather, "reject": _reject, "hangup": _hangup,
    "redirect": _redirect,
}


def targets_in(request: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, target) of the call's target and every dial verb's targets."""
    found = [("/target", request["target"])] if "target" in request else []
    for n, verb in enumerate(request.get("verbs", [])):
        if "dial" in verb:
            found += [(f"/verbs/{n}/dial/targets/{m}", t) for m, t in enumerate(verb["dial"]["targets"])]
    return found


def redirects_in(verbs: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"/verbs/{n}/redirect", v["redirect"]) for n, v in enumerate(verbs) if "redirect" in v]
