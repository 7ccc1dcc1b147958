"""A finished voice call becomes a CDR of the existing pipeline (docs/cdrs.md):
one Dialtone CSV row written to the tenant's CDR inbox, which S3 hands to the
cdr-files queue like any switch's file. The pipeline rates it, charges it once
(a call id is accepted once per day; the same file again is a repeat) and
counts it in the statistics of its DID (inbound) or termination trunk (outbound).

Outbound calls are carried by a trunk of the account: the SIP_GATEWAY's first
trunk for a device or extension target, else the account's first trunk. A
call placed for an account without a trunk of its own went out on the
platform's route, and is charged like any other (as Twilio or Telnyx bill every
call they place): its CDR names the account's platform voice route, a
termination trunk record made for the account on its first such call
(``platformRoute``; the voice API does not list it among the account's SIP
trunks), so the pipeline rates it with the tenant's outbound deck, charges the
account and counts it in that route's carrier statistics."""
from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.domain.numbers import trunks as trunk_rules
from chalicelib.services.calls import inbox
from chalicelib.services.common import retry
from chalicelib.services.voice.common import CALL_KIND, TRUNK_KIND, oid
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.schema import CUSTOMER, TRUNK
from chalicelib.store.voice import accounts as account_store, calls as call_store, children as child_store

DISPOSITIONS = {"completed": "ANSWERED", "busy": "BUSY", "no-answer": "NO ANSWER", "failed": "FAILED"}


def _digits(number: str | None) -> str:
    return (number or "").lstrip("+")


def row(*, tenant: str, call: Mapping[str, Any], customer: Mapping[str, Any], trunk_id: int | None) -> list[str]:
    inbound = call.get("direction") == "inbound"
    # E.164 digits both ways, as a switch writes them: rate decks are keyed on
    # E.164 prefixes (inbound "1206…"), and the pipeline maps 1 + 10 digits to the DID.
    to = _digits(call.get("to")) or call.get("ddiNumber")
    answered = call.get("answeredAt") if call.get("state") == "completed" else ""
    return [f"voice-{oid(tenant, CALL_KIND, call['id'])}", "inbound" if inbound else "outbound",
            str(customer.get("accountNumber", "")), "" if trunk_id is None else str(trunk_id),
            _digits(call.get("callerId")), str(to or ""), str(call.get("initiatedAt") or call["createdAt"]),
            str(answered or ""), str(call.get("endedAt") or ""), str(int(call.get("duration") or 0)),
            DISPOSITIONS[call["state"]]]


# The platform voice route's trunk record: what the carrier API's views need of a trunk.
PLATFORM_ROUTE = {"direction": trunk_rules.TERMINATION, "status": trunk_rules.ENABLED, "platformRoute": True,
                  "voice": True,
                  "title": "Dialtone voice route", "description": "Outbound voice API calls of an account "
                  "without a SIP trunk of its own", "ipaddress": "", "ports": 30, "portsAssigned": 30,
                  "cpsAssigned": 0}


def _trunk_id(tenant: str, call: Mapping[str, Any]) -> int | None:
    ref = call.get("trunkRef")
    if ref:
        return rules.parse_opaque_id(tenant, TRUNK_KIND, ref, uuid=True)
    trunks = [t for t in child_store.children(TRUNK, tenant, call["customerId"])
              if t.get("direction") == trunk_rules.TERMINATION and not t.get("platformRoute")]
    if trunks:
        return int(trunks[0]["id"])
    return retry.until_settled(lambda: _platform_route(tenant, int(call["customerId"])), what="the voice route")


def _platform_route(tenant: str, customer_id: int) -> int:
    return account_store.platform_route(tenant, customer_id) \
        or account_store.create_platform_route(tenant, customer_id, PLATFORM_ROUTE)


def hand_off(*, tenant: str, call: Mapping[str, Any]) -> str | None:
    """Write the call's CDR to the inbox; the object key, or None when the call has none."""
    if call.get("state") not in DISPOSITIONS:
        return None
    customer = entities.get_one(CUSTOMER, tenant, call["customerId"]) or {}
    inbound = call.get("direction") == "inbound"
    trunk_id = None if inbound else _trunk_id(tenant, call)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["call_id", "direction", "account", "trunk_id", "from", "to", "start", "answer", "end",
                     "billsec", "disposition"])
    writer.writerow(row(tenant=tenant, call=call, customer=customer, trunk_id=trunk_id))
    name = f"voice-{oid(tenant, CALL_KIND, call['id'])}.csv"
    key = inbox.upload_to_inbox(tenant=tenant, name=name, body=buffer.getvalue().encode())
    call_store.set_call(tenant, call["id"], {"cdr": key})
    return key
