"""Flow devices and the flow graph they make: device bodies, references, loops a caller cannot leave."""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from chalicelib.domain.voice.constants import EXTENSION, HANGUP
from chalicelib.domain.voice.calls import play_verb, say_verb
from chalicelib.domain.voice.fields import boolean, enum, fail, integer, bounded_list, object_fields, required, same_id, string, country

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
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _target(value: Any, pointer: str) -> str:
    if value == HANGUP:
        return HANGUP
    return string(value, pointer, high=64)


def device_input(body: Any, *, device_id: str | None = None) -> dict[str, Any]:
    """A device's normalised definition (references not yet checked: see check_flow)."""
    body = object_fields(body, "", ("id", "type", "name", "extension", *DEVICE_TYPES.values()))
    same_id(body, device_id)
    kind = enum(required(body, "type", ""), "/type", tuple(DEVICE_TYPES))
    section = DEVICE_TYPES[kind]
    for other in DEVICE_TYPES.values():
        if other != section and other in body:
            raise fail(f"/{other}", f"does not belong to a {kind} device")
    device: dict[str, Any] = {"type": kind, "name": string(required(body, "name", ""), "/name", high=100)}
    if body.get("extension") is not None:
        device["extension"] = string(body["extension"], "/extension", pattern=EXTENSION)
    pointer = f"/{section}"
    config = required(body, section, "")
    device[section] = _DEVICE_PARSERS[kind](config, pointer)
    return device


def _start_route(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("ddis", "connectTo"))
    ddis = [string(d, f"{p}/ddis/{n}", high=64) for n, d in enumerate(bounded_list(config.get("ddis", []), f"{p}/ddis", 0, 100))]
    if len(set(ddis)) != len(ddis):
        raise fail(f"{p}/ddis", "lists a DDI twice")
    return {"ddis": ddis, "connectTo": _target(required(config, "connectTo", p), f"{p}/connectTo")}


def _sip_gateway(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("ringTime", "maxCallTime", "record", "trunks", "present", "countryCode",
                                 "onComplete", "onFail", "onNoAnswer", "onBusy"))
    trunks = [string(t, f"{p}/trunks/{n}", high=64)
              for n, t in enumerate(bounded_list(required(config, "trunks", p), f"{p}/trunks", 1, 10))]
    return {
        "ringTime": integer(config.get("ringTime", 60), f"{p}/ringTime", 1, 600),
        "maxCallTime": integer(config.get("maxCallTime", 14400), f"{p}/maxCallTime", 1, 86400),
        "record": boolean(config.get("record", False), f"{p}/record"),
        "trunks": trunks,
        "present": enum(config.get("present", "pass-through"), f"{p}/present", PRESENT),
        "countryCode": country(config.get("countryCode", "GB"), f"{p}/countryCode"),
        **{name: _target(config.get(name, HANGUP), f"{p}/{name}")
           for name in ("onComplete", "onFail", "onNoAnswer", "onBusy")},
    }


def _announcement(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("say", "play", "connectTo"))
    if ("say" in config) == ("play" in config):
        raise fail(p, "needs exactly one of say or play")
    media = {"say": say_verb(config["say"], f"{p}/say")} if "say" in config else {"play": play_verb(config["play"], f"{p}/play")}
    return {**media, "connectTo": _target(config.get("connectTo", HANGUP), f"{p}/connectTo")}


def _time_switch(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("timezone", "ranges", "onMatch", "onNoMatch"))
    zone = string(config.get("timezone", "UTC"), f"{p}/timezone", high=64)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except Exception:  # noqa: BLE001 - any failure means the name is unusable
        raise fail(f"{p}/timezone", "is not an IANA time zone such as Europe/London") from None
    ranges = []
    for n, entry in enumerate(bounded_list(required(config, "ranges", p), f"{p}/ranges", 1, 20)):
        q = f"{p}/ranges/{n}"
        entry = object_fields(entry, q, ("days", "start", "end"))
        days = [enum(d, f"{q}/days/{m}", DAYS) for m, d in enumerate(bounded_list(required(entry, "days", q), f"{q}/days", 1, 7))]
        start = string(required(entry, "start", q), f"{q}/start", pattern=CLOCK)
        end = string(required(entry, "end", q), f"{q}/end", pattern=CLOCK)
        if end <= start:
            raise fail(f"{q}/end", "must be after start")
        ranges.append({"days": days, "start": start, "end": end})
    return {"timezone": zone, "ranges": ranges, "onMatch": _target(required(config, "onMatch", p), f"{p}/onMatch"),
            "onNoMatch": _target(required(config, "onNoMatch", p), f"{p}/onNoMatch")}


def _flow_hook(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("hook", "timeout", "onFail"))
    return {"hook": string(required(config, "hook", p), f"{p}/hook", high=64),
            "timeout": integer(config.get("timeout", 5), f"{p}/timeout", 1, 30),
            "onFail": _target(config.get("onFail", HANGUP), f"{p}/onFail")}


def _menu(config: Any, p: str) -> dict[str, Any]:
    config = object_fields(config, p, ("say", "options", "timeout", "onNoInput"))
    options = object_fields(required(config, "options", p), f"{p}/options", [*"0123456789", "*", "#"])
    if not options:
        raise fail(f"{p}/options", "needs at least one key")
    return {"say": say_verb(required(config, "say", p), f"{p}/say"),
            "options": {key: _target(value, f"{p}/options/{key}") for key, value in options.items()},
            "timeout": integer(config.get("timeout", 10), f"{p}/timeout", 1, 60),
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
            raise fail(pointer, f"names no device of this account: '{target}'")
        if target == changed and device["type"] != MENU:
            raise fail(pointer, "must not name the device itself")
    kind = device["type"]
    if kind == ROUTE_START:
        for n, ddi in enumerate(device["startRoute"]["ddis"]):
            if ddi not in ddis:
                raise fail(f"/startRoute/ddis/{n}", f"'{ddi}' is not a DDI of this account")
            for other_id, other in devices.items():
                if other_id != changed and other["type"] == ROUTE_START and ddi in other["startRoute"]["ddis"]:
                    raise fail(f"/startRoute/ddis/{n}", f"'{ddi}' already starts the route of device {other_id}")
    if kind == SIP_GATEWAY:
        for n, trunk in enumerate(device["sipGateway"]["trunks"]):
            if trunk not in trunks:
                raise fail(f"/sipGateway/trunks/{n}", f"'{trunk}' is not a trunk of this account")
    if kind == FLOW_HOOK and device["flowHook"]["hook"] not in flow_hooks:
        where = "is an event hook, not a flow.generic hook" if device["flowHook"]["hook"] in hooks else \
            "is not a hook of this account"
        raise fail("/flowHook/hook", f"'{device['flowHook']['hook']}' {where}")
    extension = device.get("extension")
    if extension is not None:
        for other_id, other in devices.items():
            if other_id != changed and other.get("extension") == extension:
                raise fail("/extension", f"'{extension}' is already the extension of device {other_id}")
    cycle = find_loop(devices)
    if cycle:
        raise fail("", "the flow could loop forever without the caller pressing a key: " + " -> ".join(cycle))


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


