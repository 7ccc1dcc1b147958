"""Domain records -> the document's field names (seed 004)."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.domain.identity import Principal


def account_summary(principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": rules.opaque_id(principal.tenant_id, "ACCOUNT", customer["id"]), "name": customer.get("name", "")}


def account(principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    return {**account_summary(principal, customer), "mbn": customer.get("voiceMbn", ""),
            "domain": customer.get("voiceDomain", "")}


def ddi(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": found["id"], "name": found["name"]}


def trunk(principal: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
    # Trunks defined through the carrier API show their address with the defaults.
    from chalicelib.services.voice.common import TRUNK_KIND, oid

    return {"id": oid(principal, TRUNK_KIND, record["id"]), "ip": record.get("ip") or record.get("ipaddress"),
            "port": record.get("port", 5060), "vendor": record.get("vendor", "generic"),
            "callerFormat": record.get("callerFormat", "national"),
            "calledFormat": record.get("calledFormat", "national"),
            "description": record.get("description", record.get("title", "")),
            "zone": record.get("zone", "eu-west-1"), "countryCode": record.get("countryCode", "US")}


def hook(principal: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
    # Credentials and the signing secret are write-only.
    from chalicelib.services.voice.common import HOOK_KIND, oid

    return {"id": oid(principal, HOOK_KIND, record["id"]), "app": record["app"], "url": record["url"],
            "authType": record["authType"], "method": record["method"], "priority": record["priority"]}


def delivery(record: Mapping[str, Any]) -> dict[str, Any]:
    attempts = record.get("attempts") or []
    return {"deliveryId": record["deliveryId"], "event": record["event"], "callId": record["callRef"],
            "sequence": record["seq"], "status": record["status"], "createdAt": record["createdAt"],
            "attempts": [{"at": a["at"], "status": a.get("status"), "error": a.get("error"), "ms": a.get("ms")}
                         for a in attempts]}


def device(principal: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
    from chalicelib.services.voice.common import DEVICE_KIND, definition, oid

    found = definition(record)
    ordered = {"id": oid(principal, DEVICE_KIND, record["id"]), "type": found.pop("type"),
               "name": found.pop("name")}
    if "extension" in found:
        ordered["extension"] = found.pop("extension")
    return {**ordered, **found}
