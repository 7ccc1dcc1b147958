"""Accounts' addresses, SIP trunks and hooks: their request bodies, checked."""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from chalicelib.domain.countries import COUNTRIES, country_code
from chalicelib.domain.voice.fields import enum, fail, integer, object_fields, required, same_id, string, country

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
    body = object_fields(body, "", ADDRESS_FIELDS)
    line1 = string(required(body, "line1", ""), "/line1")
    line2 = string(body["line2"], "/line2", low=0) if body.get("line2") is not None else None
    level1 = string(body["level1"], "/level1", low=0, high=100) if body.get("level1") is not None else None
    level2 = string(required(body, "level2", ""), "/level2", high=100)
    name = string(required(body, "country", ""), "/country", high=100)
    code = country_code(name)
    if code is None:
        raise fail("/country", "is not a known country (a name such as United Kingdom, or an ISO code)")
    postal = body.get("postalCode")
    if code in POSTAL_CODES and postal is None:
        raise fail("/postalCode", f"is required for {COUNTRIES[code]}")
    if postal is not None:
        postal = string(postal, "/postalCode", high=20).upper()
        pattern = POSTAL_CODES.get(code)
        if pattern is not None and not pattern.match(postal):
            raise fail("/postalCode", f"is not a valid postal code of {COUNTRIES[code]}")
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
    text = string(value, pointer, high=45)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise fail(pointer, "must be an IPv4 or IPv6 address") from None
    if not address.is_global or address.is_multicast:
        raise fail(pointer, "must be a public address the platform can reach")
    return str(address)


def trunk_input(body: Any, *, trunk_id: str | None = None) -> dict[str, Any]:
    """A trunk's fields from a POST (``trunk_id`` None) or PUT (full replacement) body."""
    body = object_fields(body, "", TRUNK_FIELDS)
    same_id(body, trunk_id)
    values = {**TRUNK_DEFAULTS, **{k: v for k, v in body.items() if v is not None and k != "id"}}
    return {
        "ip": public_ip(required(body, "ip", ""), "/ip"),
        "port": integer(values["port"], "/port", 1, 65535),
        "vendor": enum(values["vendor"], "/vendor", VENDORS),
        "callerFormat": enum(values["callerFormat"], "/callerFormat", NUMBER_FORMATS),
        "calledFormat": enum(values["calledFormat"], "/calledFormat", NUMBER_FORMATS),
        "description": string(values.get("description", ""), "/description", low=0, high=200),
        "zone": enum(values["zone"], "/zone", ZONES),
        "countryCode": country(required(body, "countryCode", ""), "/countryCode"),
    }


# ------------------------------------------------------------------ hooks
FLOW_APP = "flow.generic"
EVENT_APP = "event.generic"
AUTH_TYPES = ("DISABLED", "BASIC", "BEARER", "SIGNED")
HOOK_METHODS = ("POST", "PUT")
HOOK_FIELDS = ("id", "app", "url", "authType", "method", "priority", "credentials")


def hook_input(body: Any, *, hook_id: str | None = None) -> dict[str, Any]:
    body = object_fields(body, "", HOOK_FIELDS)
    same_id(body, hook_id)
    auth = enum(body.get("authType", "DISABLED"), "/authType", AUTH_TYPES, fold=True)
    values: dict[str, Any] = {
        "app": enum(required(body, "app", ""), "/app", (FLOW_APP, EVENT_APP)),
        "url": hook_url(required(body, "url", ""), "/url"),
        "authType": auth,
        "method": enum(body.get("method", "POST"), "/method", HOOK_METHODS, fold=True),
        "priority": integer(body.get("priority", 10), "/priority", 0, 1000),
    }
    credentials = body.get("credentials")
    if auth == "BASIC":
        given = object_fields(credentials, "/credentials", ("username", "password"))
        values["credentials"] = {"username": string(required(given, "username", "/credentials"),
                                                     "/credentials/username", high=128,
                                                     pattern=re.compile(r"^[^:]+$")),
                                 "password": string(required(given, "password", "/credentials"),
                                                     "/credentials/password", high=256)}
    elif auth == "BEARER":
        given = object_fields(credentials, "/credentials", ("token",))
        values["credentials"] = {"token": string(required(given, "token", "/credentials"),
                                                  "/credentials/token", high=2048,
                                                  pattern=re.compile(r"^[\x21-\x7e]+$"))}
    elif credentials is not None:
        raise fail("/credentials", f"are only for authType BASIC or BEARER, not {auth}")
    return values


def hook_url(value: Any, pointer: str) -> str:
    text = string(value, pointer, high=2048)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise fail(pointer, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(pointer, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise fail(pointer, "must not carry credentials; use authType and credentials")
    if port == 0:
        raise fail(pointer, "has an invalid port")
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


