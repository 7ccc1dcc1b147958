"""Trunk groups: origination (calls to the customer's numbers) and termination
(the customer's outbound calls). One model; the carrier API shows two views."""
from __future__ import annotations

import ipaddress
from typing import Any, Mapping

from chalicelib.domain.errors import ValidationError

ORIGINATION = "origination"
TERMINATION = "termination"
METERED = "Metered"
UNMETERED = "Unmetered"
ENABLED = "1"
DISABLED = "0"


def _invalid(field: str) -> ValidationError:
    return ValidationError(f"Invalid {field}", field=field)


def ipv4(value: Any, field: str) -> str:
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise _invalid(field) from None
    if address.is_unspecified or address.is_multicast or address.is_loopback:
        raise _invalid(field)
    return str(address)


def integer(value: Any, field: str, low: int, high: int) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise _invalid(field)
    number = int(text)
    if not low <= number <= high:
        raise _invalid(field)
    return number


def sip_port(value: Any, field: str) -> int:
    # The seed asks for a 4 digit port (5060, 5080 ...).
    text = str(value).strip()
    if len(text) != 4:
        raise _invalid(field)
    return integer(text, field, 1024, 9999)


def prefix(value: Any, field: str) -> str:
    text = str(value).strip()
    if not (text.isdigit() and 4 <= len(text) <= 6):
        raise _invalid(field)
    return text


def forwarding_number(value: Any, field: str) -> str:
    text = str(value).strip()
    if not (len(text) == 11 and text.isdigit() and text[0] == "1" and text[1] in "23456789"):
        raise _invalid(field)
    return text


def title(value: Any, field: str = "title") -> str:
    text = str(value or "").strip()
    if not text or len(text) > 100:
        raise _invalid(field)
    return text


# (parameter, stored field, parser) for origination trunks.
ORIGINATION_FIELDS = (
    ("title", "title", title),
    ("primaryTrunk", "primaryIP", ipv4),
    ("primaryPrefix", "primaryPrefix", prefix),
    ("primaryPort", "primaryPort", sip_port),
    ("secondaryTrunk", "secondaryIP", ipv4),
    ("secondaryPrefix", "secondaryPrefix", prefix),
    ("secondaryPort", "secondaryPort", sip_port),
    ("call_forwarding", "callForwarding", forwarding_number),
)


def origination_fields(params: Mapping[str, str], *, creating: bool) -> dict[str, Any]:
    """Validated origination trunk fields from the given parameters only."""
    values: dict[str, Any] = {}
    for name, stored, parse in ORIGINATION_FIELDS:
        if params.get(name) not in (None, ""):
            values[stored] = parse(params[name], name)
    if creating:
        for required in ("title", "primaryIP"):
            if required not in values:
                raise _invalid("primaryTrunk" if required == "primaryIP" else required)
        billing = str(params.get("billingType") or "").strip().capitalize()
        if billing not in (METERED, UNMETERED):
            raise _invalid("billingType")
        values["billingType"] = billing
        if billing == UNMETERED:
            if params.get("sessions") in (None, ""):
                raise _invalid("sessions")
            values["sessions"] = integer(params["sessions"], "sessions", 1, 100000)
        elif params.get("sessions") not in (None, ""):
            values["sessions"] = integer(params["sessions"], "sessions", 0, 100000)
        mou = str(params.get("mou") or "").strip()
        if mou and mou.lower() != "unlimited":
            raise _invalid("mou")
        if mou:
            values["mou"] = "Unlimited"
    return values


def termination_fields(params: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {"title": title(params.get("title"))}
    if params.get("ipaddress") in (None, ""):
        raise _invalid("ipaddress")
    values["ipaddress"] = ipv4(params["ipaddress"], "ipaddress")
    if params.get("ports") in (None, ""):
        raise _invalid("ports")
    values["ports"] = integer(params["ports"], "ports", 1, 1000)
    if params.get("cps") not in (None, ""):
        values["cps"] = integer(params["cps"], "cps", 1, 1000)
    return values
