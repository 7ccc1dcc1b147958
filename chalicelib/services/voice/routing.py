"""Where call control sends a leg and what it presents: a device or extension
target whose device is a SIP_GATEWAY, and the gateway step of an inbound
flow, resolved to the PBX's SIP URIs (one per gateway trunk, for failover)
with the gateway's presentation and recording (the ``route`` of
adapters/media.py); the caller ids a flow hook's verbs may present; and
whether a TIME_SWITCH matches."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.services.voice.common import DEVICE_KIND, TRUNK_KIND
from chalicelib.store.voice import children as store

_log = logging.getLogger(__name__)


def resolved_target(tenant: str, call: Mapping[str, Any], target: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The target as the media server reaches it (None: a gateway left without
    trunks). The number dialled behind a gateway is the extension target's
    overrideTo (else the extension), or the device's own extension. Targets
    that are not a gateway's are as given."""
    ref = (target.get("device") or {}).get("id") or (target.get("extension") or {}).get("device")
    number = rules.parse_opaque_id(tenant, DEVICE_KIND, ref, uuid=True) if ref else None
    device = store.child(store.DEVICE, tenant, call["customerId"], number)
    if device is None or device["type"] != rules.SIP_GATEWAY:
        return target
    if "extension" in target:
        dialled = target["extension"].get("overrideTo") or target["extension"]["extension"]
    else:
        dialled = device.get("extension") or ""
    found = gateway_target(tenant, call, device, str(dialled))
    return None if found is None else {**target, **found}


def gateway_target(tenant: str, call: Mapping[str, Any], device: Mapping[str, Any],
                   dialled: str) -> dict[str, Any] | None:
    """``sip:<dialled>@<trunk address>:<port>`` for each of the gateway's trunks,
    in its order; None when none is left."""
    from chalicelib.store.dynamo.schema import TRUNK

    section = device["sipGateway"]
    uris, refs = [], []
    for ref in section["trunks"]:
        trunk = store.child(TRUNK, tenant, call["customerId"],
                            rules.parse_opaque_id(tenant, TRUNK_KIND, ref, uuid=True)) or {}
        address = str(trunk.get("ip") or trunk.get("ipaddress") or "")
        if not address:
            continue  # gone meanwhile (a trunk a gateway names cannot be deleted, but a race can)
        host = f"[{address}]" if ":" in address else address  # IPv6 in brackets (RFC 3261)
        uris.append(f"sip:{dialled}@{host}:{int(trunk.get('port') or 5060)}")
        refs.append(ref)
    if not uris:
        return None
    return {"sipUri": {"uri": uris[0]},
            "route": {"uris": uris, "trunks": refs, "present": section.get("present", "pass-through"),
                      "record": bool(section.get("record")), "caller": call.get("callerId") or ""}}


def presented(tenant: str, call: Mapping[str, Any], target: Mapping[str, Any], caller_id: str) -> str:
    """The caller id a leg presents: a gateway's ``present`` decides for its legs
    (``mbn``: the account's mbn now; ``withheld`` is the adapter's to withhold,
    with route.present; ``pass-through``: as given)."""
    if (target.get("route") or {}).get("present") == "mbn":
        from chalicelib.services.voice import accounts

        ddis = accounts.active_ddis(tenant, int(call["customerId"]))
        return f"+{ddis[0]['name']}" if ddis else caller_id
    return caller_id


def presents_own_numbers(tenant: str, call: Mapping[str, Any], verbs: list[dict[str, Any]]) -> bool:
    """Whether a flow hook's verbs present only the account's active DDIs (as a
    call's must: services/voice/calls.py)."""
    from chalicelib.services.voice import accounts

    caller_ids = rules.caller_ids_in({"verbs": verbs})
    if not caller_ids:
        return True
    owned = {d["name"] for d in accounts.active_ddis(tenant, int(call["customerId"]))}
    refused = [pointer for pointer, number in caller_ids if number.lstrip("+") not in owned]
    if refused:
        _log.warning("call %s: a flow hook's verbs present a number the account does not have (%s)",
                     call["id"], ", ".join(refused))
    return not refused


def in_ranges(section: Mapping[str, Any], moment: float) -> bool:
    """Whether a TIME_SWITCH's ranges hold ``moment`` (its timezone's day and HH:MM)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromtimestamp(moment, ZoneInfo(section["timezone"]))
    day, time_of_day = rules.DAYS[local.weekday()], local.strftime("%H:%M")
    return any(day in r["days"] and r["start"] <= time_of_day < r["end"] for r in section["ranges"])
