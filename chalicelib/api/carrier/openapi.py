"""The OpenAPI 3 description of the wholesale carrier API (seed 002), served at
/carrier/openapi.json. Built on request (no cost at import); the surface tests
check that every registered endpoint is described and validate real answers
against it, so it cannot drift silently.

Every endpoint is ``/carrier/<name>`` for GET (parameters in the query string)
and POST (the same parameters in a form, multipart or JSON body, or still in
the query string): ENDPOINTS below lists each one's parameters and answer once,
and both operations are made from that entry."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.carrier.dialect import bp

# Limits that live in services (imported by the tests to check they agree;
# not here, where importing the services would load the AWS SDK).
MAX_UPDATE = 100  # services.numbers.inventory.MAX_UPDATE
MAX_STATS_IDS = 100  # services.calls.stats.MAX_IDS
MAX_CDR_DAYS = 366  # services.calls.stats.MAX_DAYS
SEARCH_LIMIT = 100  # api.carrier.origination.SEARCH_LIMIT
MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain")

TEXT = {"type": "string"}
COUNT = {"type": "string", "pattern": r"^\d+$"}
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{5}$", "description": "decimal with five places, exact"}
STAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "description": "YYYY-MM-DD hh:mm:ss, UTC"}
URL = {"type": "string", "description": "an absolute presigned S3 URL; it expires, ask again for a fresh one"}
NUMBER = {"type": "string", "pattern": r"^[2-9]\d{2}[2-9]\d{6}$", "description": "10 digits (NPANXXYYYY)"}
DAY = {"type": "string", "description": "YYYY-MM-DD (a time after the date is ignored)"}


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    summary: str
    params: tuple[Param, ...]
    answer: dict[str, Any]  # the success fields besides "status"
    idempotent: bool = False  # a POST with an Idempotency-Key header runs once
    tenant_level: bool = False  # accountno optional
    files: tuple[str, ...] = ()  # multipart file parts
    optional: tuple[str, ...] = ()  # answer fields present only sometimes
    also: dict[str, Any] = field(default_factory=dict)  # more documented answers by status


def _p(name: str, schema: dict[str, Any] | None = None, description: str = "", required: bool = False) -> Param:
    return Param(name, schema or TEXT, description, required)


def _req(name: str, schema: dict[str, Any] | None = None, description: str = "") -> Param:
    return _p(name, schema, description, required=True)


def _obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [k for k in properties if k not in optional]}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _numbers(name: str, limit: int, what: str = "10-digit numbers (or 1 and 10 digits)") -> Param:
    return _req(name, description=f"{what}, comma-separated, at most {limit}")


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _origination_params(*, creating: bool) -> tuple[Param, ...]:
    ipv4 = {"type": "string", "format": "ipv4", "description": "not 0.0.0.0, loopback or multicast"}
    prefix = {"type": "string", "pattern": r"^\d{4,6}$"}
    port = {"type": "string", "pattern": r"^\d{4}$", "description": "1024-9999"}
    title = {"type": "string", "minLength": 1, "maxLength": 100}
    params = (_p("title", title, required=creating), _p("primaryTrunk", ipv4, required=creating),
              _p("primaryPrefix", prefix), _p("primaryPort", port), _p("secondaryTrunk", ipv4),
              _p("secondaryPrefix", prefix), _p("secondaryPort", port),
              _p("call_forwarding", {"type": "string", "pattern": r"^1[2-9]\d{9}$"}, "11 digits"))
    if not creating:
        return params
    return params + (
        _req("billingType", {"type": "string", "enum": ["Metered", "Unmetered"]}, "any letter case"),
        _p("sessions", _int(0, 100000), "required (1-100000) when Unmetered"),
        _p("mou", {"type": "string", "enum": ["Unlimited"]}))


def _order_fields() -> dict[str, Any]:
    return {
        "date": STAMP, "amount": MONEY, "per_order_cost": MONEY, "taxes": MONEY, "other_charges": MONEY,
        "discount": MONEY, "tg_id": TEXT, "orderType": TEXT,
        "didCategory": {"type": "string", "enum": ["Landline", "TollFree", "Mixed"]}, "didType": TEXT,
        "sessions": COUNT, "status": {"type": "string", "enum": ["0", "2", "3", "1", "4"],
                                      "description": "0 generated, 2 queued, 3 charged, 1 complete, 4 failed"},
        "numbers": _list(NUMBER)}


def _schemas() -> dict[str, Any]:
    from chalicelib.domain import numbers, porting
    from chalicelib.services.numbers.porting import SUBSCRIBER_FIELDS

    stats = {"accountno": TEXT, "number": {"type": "string", "description": "the number or trunk group asked for"},
             "processed": COUNT, "completed": COUNT, "acd": {**COUNT, "description": "whole seconds"},
             "asr": {"type": "string", "pattern": r"^\d+%$"}, "mou": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
             "peak": COUNT}
    port_status = {"type": "string", "enum": list(porting.STATUS_CODES.values()),
                   "description": "0 submitted, 2 FOC confirmed, 1 complete, 3 rejected, 4 cancelled"}
    zero = {"type": "string", "enum": ["0.00"]}
    shown = [f for f in SUBSCRIBER_FIELDS if f not in ("wirelessAccountNumber", "wirelessPin", "billingNumber")]
    return {
        "Error": _obj({"status": {"type": "string", "pattern": r"^\d{3}$", "description": "the HTTP status"},
                       "error": {"type": "string", "description": "a bad parameter: 'Invalid <parameter>'"}}),
        "GatewayError": _obj({"Code": TEXT, "Message": TEXT}),
        "State": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                  "description": "a US state or territory, any letter case: " + " ".join(sorted(numbers.US_STATES))},
        "Stats": _obj(stats),
        "MonthlyStats": _obj({**stats, "month": {"type": "string", "pattern": r"^\d{4}-\d{2}-1$"}}),
        "DailyFiles": _obj({"date": STAMP, "success": URL, "failed": URL}),
        "Order": _obj({"orderno": TEXT, "accountno": TEXT, **_order_fields(),
                       "state": {"type": "string", "enum": ["generated", "queued", "charged", "complete", "failed"]},
                       "history": _list(_obj({"status": TEXT, "date": STAMP, "note": TEXT}, optional=("note",)))}),
        "PortOrder": _obj({
            "orderno": TEXT, "accountno": TEXT, "date": STAMP, "amount": zero, "per_order_cost": zero,
            "taxes": zero, "other_charges": zero, "discount": zero, "tg_id": TEXT, "orderType": TEXT,
            "didCategory": {"type": "string", "enum": ["Landline", "TollFree"]}, "didType": TEXT, "sessions": TEXT,
            "status": port_status, "state": {"type": "string", "enum": list(porting.STATES)},
            "requestedFocDate": STAMP, "actualFocDate": TEXT, "billingNumber": TEXT, "loaAuthorizingPerson": TEXT,
            "numbers": _list(NUMBER), "subscriberType": {"type": "string", "enum": list(porting.SUBSCRIBER_TYPES)},
            **{f: TEXT for f in shown},
            "lastModifiedDate": TEXT, "lastModifiedBy": TEXT, "immediately": {"type": "boolean"},
            "triggered": {"type": "boolean"}, "loa": URL, "carrier_doc": URL,
            "history": _list(_obj({"status": TEXT, "at": TEXT, "by": TEXT}))}),
        "OriginationTrunk": _obj({
            "id": TEXT, "accountno": TEXT, "title": TEXT, "primaryIP": TEXT, "primaryPort": TEXT, "prefix_1": TEXT,
            "secondaryIP": TEXT, "secondaryPort": TEXT, "prefix_2": TEXT, "date": STAMP,
            "billingType": {"type": "string", "enum": ["Metered", "Unmetered"]}, "req_sessions": TEXT,
            "alloc_sessions": TEXT, "mou": TEXT, "call_forwarding": TEXT,
            "status": {"type": "string", "enum": ["1", "0"], "description": "1 enabled, 0 disabled"}}),
        "TerminationTrunk": _obj({
            "id": TEXT, "accountno": TEXT, "title": TEXT, "ipaddress": TEXT, "ports": COUNT, "cps": TEXT,
            "ports_assigned": COUNT, "cps_assigned": COUNT, "config": {**URL, "description": "the settings PDF"},
            "status": {"type": "string", "enum": ["1", "0"]}}),
        "MyNumber": _obj({
            "didnumber": NUMBER, "trunkGroup": TEXT, "prefix1": TEXT, "trunkGroup2": TEXT, "prefix2": TEXT,
            "didRate": MONEY, "didType": TEXT, "orderType": TEXT,
            "status": {"type": "string", "enum": list(numbers.STATUS_CODES.values()),
                       "description": "1 active, 0 inactive, 2 cancelled"},
            "cnam": TEXT, "trunkId": TEXT, "orderno": TEXT,
            "category": {"type": "string", "enum": list(numbers.CATEGORIES)}}),
    }


def _endpoints() -> list[Endpoint]:
    from chalicelib.domain import ledger, numbers, porting
    from chalicelib.services.numbers.porting import SUBSCRIBER_FIELDS

    state = _ref("State")
    category = {"type": "string", "description": "landline or tollfree (any case; '-' and spaces ignored)"}
    tfn_prefix = {"type": "string", "enum": list(numbers.TOLLFREE_PREFIXES)}
    npanxx = {"type": "string", "pattern": r"^[2-9]\d{2}[2-9]\d{2}$"}
    status_code = {"type": "string", "enum": list(numbers.STATUS_CODES.values()),
                   "description": "1 active, 0 inactive, 2 cancelled"}
    tns = {"type": "array", "items": NUMBER, "description": "one number per element"}
    reserved = {"reserveId": TEXT, "TNs": tns, "expiresAt": {"type": "string", "description": "ISO 8601, UTC"}}
    added = {"success": TEXT, "tg_id": TEXT}
    period = (_p("from", DAY), _p("to", DAY))
    stats_ids = lambda name, what: _numbers(name, MAX_STATS_IDS, what)  # noqa: E731
    monthly = (_req("year", _int(1970, 9999)), _p("month", _int(1, 12), "default: the whole year"))
    daily = (_req("from", DAY), _req("to", DAY, f"at most {MAX_CDR_DAYS} days after from"))
    data = lambda item: {"data": _list(item)}  # noqa: E731
    activities = [ledger.ALL_ACTIVITY, *ledger.ACTIVITIES]
    plain_name = {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", "maxLength": 128}
    return [
        # Origination: availability, search, reservations.
        Endpoint("availabilitystate", "states with available landline numbers", (), data(TEXT)),
        Endpoint("availabilitynpanxx", "NPANXXs with available numbers in a state", (_req("state", state),),
                 data(_obj({"NPANXX": TEXT, "NPA": TEXT, "RateCenter": TEXT, "available": COUNT}))),
        Endpoint("searchdid", f"up to {SEARCH_LIMIT} available landline numbers, ascending",
                 (_p("state", state, "required unless NPANXXYYYY is given"), _p("NPANXX", npanxx),
                  _p("NPANXXYYYY", TEXT, "one number, 10 digits (or 1 and 10)"), _p("city")),
                 {"DIDs": _list(_obj({"TN": NUMBER, "statusid": {"type": "string", "enum": ["0"]}}))}),
        Endpoint("searchtfn", f"up to {SEARCH_LIMIT} available toll-free numbers", (_req("tfn_prefix", tfn_prefix),),
                 {"TFNs": _list(_obj({"TN": NUMBER, "statusid": {"type": "string", "enum": ["0"]}}))}),
        Endpoint("reserve", "reserve the listed numbers, all or none",
                 (_req("category", category), _numbers("number", numbers.MAX_BULK), _p("state", state),
                  _p("npanxx", npanxx), _p("tfn_prefix", tfn_prefix)), reserved, idempotent=True),
        Endpoint("bulkreserve", "reserve the lowest available numbers matching, all or none",
                 (_req("category", category), _req("quantity", _int(1, numbers.MAX_BULK)),
                  _p("state", state, "landline: a state or an npanxx"), _p("npanxx", npanxx), _p("city"),
                  _p("tfn_prefix", tfn_prefix, "required for tollfree")), reserved, idempotent=True),
        Endpoint("remove_reserved", "release reserved numbers (all of the reservation by default)",
                 (_req("reserveId"), _p("number", TEXT, "comma-separated")),
                 {"Removed TNs": tns, "TNs not available": tns}),
        # Origination trunk groups and the account's numbers.
        Endpoint("defineTrunk", "define an origination trunk group", _origination_params(creating=True), added,
                 idempotent=True),
        Endpoint("get_trunk", "the origination trunk group tg_id, or all of them", (_p("tg_id"),),
                 data(_ref("OriginationTrunk"))),
        Endpoint("update_trunk", "change only the fields given",
                 (_req("trunkid"), *_origination_params(creating=False)), {"trunkid": TEXT, "success": TEXT}),
        Endpoint("getnumbers", "the account's numbers",
                 (_p("category", category), _p("status", status_code), _p("trunkId", {"type": "integer", "minimum": 0}),
                  _p("orderno", {"type": "integer", "minimum": 0})), data(_ref("MyNumber"))),
        Endpoint("updatenumber", "change numbers' status, trunk group or CNAM, all or none",
                 (_numbers("number", MAX_UPDATE), _p("status", status_code), _p("trunkId"),
                  _p("cnam", {"type": "string", "pattern": r"^[A-Za-z0-9 ._,&-]{1,15}$"})), {"success": TEXT}),
        # Orders.
        Endpoint("gen_order", "order the numbers of a reservation", (_req("reserveId"), _req("trunk_id")),
                 {"success": TEXT, "orderId": TEXT, **_order_fields()}, idempotent=True),
        Endpoint("process_order", "queue the order: the order worker charges and activates it", (_req("orderId"),),
                 {"success": TEXT, "orderId": TEXT}, idempotent=True),
        Endpoint("get_new_orders", "the order orderId, or all of them", (_p("orderId"),),
                 {"Orders": _list(_ref("Order"))}),
        # Porting.
        Endpoint("check_lnp", "which numbers may be ported in, with the reasons for the others",
                 (_numbers("numbers", porting.MAX_PORT_NUMBERS),),
                 {"accepted": _list(NUMBER), "rejected": _list(NUMBER),
                  "reasons": {"type": "object", "additionalProperties": TEXT, "description": "by rejected number"}}),
        Endpoint("generate_lnp_order", "a port-in order for the portable numbers (multipart POST only)",
                 (_numbers("numbers", porting.MAX_PORT_NUMBERS), _req("category", category),
                  _req("subscriberType", {"type": "string", "enum": list(porting.SUBSCRIBER_TYPES)}),
                  _req("loaAuthorizingPerson", TEXT, "first and last name"),
                  _p("requestedFocDate", STAMP, "a business day, not before the losing carriers' minimum days; "
                                                "default: the first such day"),
                  *(_p(f) for f in SUBSCRIBER_FIELDS)),
                 {"success": TEXT, "orderNo": TEXT, "date": STAMP,
                  **{k: {"type": "string", "enum": ["0.00"]} for k in ("amount", "per_order_cost", "taxes",
                                                                        "other_charges", "discount")},
                  "tg_id": TEXT, "orderType": {"type": "string", "enum": ["Portin"]},
                  "didCategory": {"type": "string", "enum": ["Landline", "TollFree"]}, "didType": TEXT,
                  "sessions": TEXT, "status": TEXT, "requestedFocDate": STAMP, "acceptedTns": _list(NUMBER),
                  "rejectedTns": _list(NUMBER)}, idempotent=True, files=("loa_doc", "carrier_doc")),
        Endpoint("get_lnp_orders", "the port order orderId, or all of them", (_p("orderId"),),
                 {"Orders": _list(_ref("PortOrder"))}),
        # Termination trunks.
        Endpoint("defineTrunk_termination", "define a termination trunk",
                 (_req("title", {"type": "string", "minLength": 1, "maxLength": 100}),
                  _req("ipaddress", {"type": "string", "format": "ipv4"}), _req("ports", _int(1, 1000)),
                  _p("cps", _int(1, 1000))), added, idempotent=True),
        Endpoint("get_trunk_termination", "the termination trunk tg_id, or all of them", (_p("tg_id"),),
                 data(_ref("TerminationTrunk"))),
        Endpoint("disable_trunk_termination", "disable a termination trunk", (_req("tg_id"),),
                 {"Removed TNs": {"type": "string", "enum": ["Diabled Successfully"], "description": "sic"}}),
        # Billing.
        Endpoint("get_invoices", "the invoices dated in the period (default: the last 366 days)", period,
                 data(_obj({"date": STAMP, "file": {**URL, "description": "the invoice PDF"}}))),
        Endpoint("financial_summary", "ledger movements in the period (default: the last 31 days)",
                 (_p("activitytype", {"type": "string", "enum": activities}, "any letter case"), *period),
                 data(_obj({"accountno": TEXT, "date": STAMP, "activity": {"type": "string", "enum": activities[1:]},
                            "debit": MONEY, "credit": MONEY, "balance": MONEY}))),
        Endpoint("get_payments", "card payments in the period (default: the last 366 days)",
                 (_p("referenceno"), *period, _p("method", {"type": "string", "enum": list(ledger.METHOD_ACTIVITY)})),
                 data(_obj({"accountno": TEXT, "date": STAMP, "referenceno": TEXT, "funded_amount": MONEY,
                            "charges": MONEY, "amount": MONEY, "method": TEXT,
                            "status": {"type": "string", "enum": ["1", "0", "2", "3"],
                                       "description": "1 approved, 0 pending, 2 declined, 3 failed"}}))),
        Endpoint("make_payment", "charge a card and credit the balance",
                 (_req("cardnumber", {"type": "string", "pattern": r"^[\d -]+$"}, "12-19 digits, Luhn"),
                  _req("expmonth", _int(1, 12)), _req("expyear", {"type": "integer"}, "YY or YYYY, not expired"),
                  _req("cvv", {"type": "string", "pattern": r"^\d{3,4}$"}), _req("firstname"), _req("lastname"),
                  _p("amount", {"type": "string"}, "decimal; default: the balance due"),
                  _p("idempotency_key", TEXT, "or the Idempotency-Key header: a retry returns the first payment")),
                 {"success": TEXT, "referenceno": TEXT, "amount": MONEY},
                 also={"202": ("the gateway did not answer: recorded as pending, settled by reconciliation",
                               _obj({"status": {"type": "string", "enum": ["202"]}, "success": TEXT,
                                     "referenceno": TEXT, "amount": MONEY}))}),
        # Statistics and CDR files.
        Endpoint("did_stats", "all-time figures of the account's numbers",
                 (stats_ids("number", "numbers (10 or 11 digits)"),), data(_ref("Stats"))),
        Endpoint("tg_stats", "all-time figures of origination trunk groups",
                 (stats_ids("tg_id", "trunk group ids"),), data(_ref("Stats"))),
        Endpoint("tg_stats_termination", "all-time figures of termination trunks",
                 (stats_ids("tg_id", "trunk ids"),), data(_ref("Stats"))),
        Endpoint("monthly_summary", "per number and month (inbound)", monthly, data(_ref("MonthlyStats"))),
        Endpoint("monthly_summary_termination", "per trunk and month (outbound)", monthly, data(_ref("MonthlyStats"))),
        Endpoint("daily_cdrs", "CDR files of each closed day (inbound), newest first", daily,
                 data(_ref("DailyFiles"))),
        Endpoint("daily_cdrs_termination", "CDR files of each closed day (outbound), newest first", daily,
                 data(_ref("DailyFiles"))),
        Endpoint("cdr_upload", "extension: a presigned S3 POST for one CDR file (tenant-level writers)",
                 (_req("filename", plain_name),),
                 {"url": TEXT, "fields": {"type": "object", "additionalProperties": TEXT,
                                          "description": "send each, then the file as 'file', to url"},
                  "filename": {"type": "string", "description": "the stored name, for cdr_upload_status"},
                  "maxsize": COUNT, "expires": STAMP}, tenant_level=True),
        Endpoint("cdr_upload_status", "extension: what became of an uploaded CDR file",
                 (_req("filename", {**plain_name, "maxLength": 154}, "as cdr_upload answered it"),),
                 {"state": {"type": "string", "enum": ["pending", "processing", "done", "repeated"]},
                  **{k: COUNT for k in ("rows", "accepted", "duplicate", "rejected")},
                  "errors": _list({"type": "object", "additionalProperties": TEXT,
                                   "description": "line (or part_line) and reason"})},
                 optional=("rows", "accepted", "duplicate", "rejected", "errors"),
                 tenant_level=True),
    ]


ERRORS = {
    "401": "Invalid token: no key, an unknown or revoked one, or a source address outside the key's allow-list",
    "402": "the card was declined, or the charge would take the balance below the credit limit",
    "403": "not permitted: a read-only user writing, a customer user naming another account, a customer user "
           "asking for a tenant-level extension",
    "404": "a missing or bad parameter, or one naming something outside the caller's scope: "
           "'Invalid <parameter>' (also 'Invalid body' for a malformed body)",
    "409": "conflict: the record is in the wrong state for the call, already exists, or is contended (retry)",
    "500": "Internal error",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error_responses() -> dict[str, Any]:
    found = {status: {"description": text, **_json(_ref("Error"))} for status, text in ERRORS.items()}
    found["422"] = {"description": "the Idempotency-Key was used with different parameters, or its first request "
                                   "is still running", **_json(_ref("Error"))}
    found["415"] = {"description": "a Content-Type other than " + ", ".join(MEDIA_TYPES) + " (answered by the "
                                   "framework, before the endpoint)", **_json(_ref("GatewayError"))}
    return {f"Status{status}": answer for status, answer in found.items()}


def _answer_schema(endpoint: Endpoint) -> dict[str, Any]:
    return _obj({"status": {"type": "string", "enum": ["200"]}, **endpoint.answer}, optional=endpoint.optional)


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    answers: dict[str, Any] = {"200": {"description": "OK", **_json(_ref(f"{endpoint.name}_answer"))}}
    for status, (description, schema) in endpoint.also.items():
        answers[status] = {"description": description, **_json(schema)}
    statuses = [*ERRORS, "415", *(["422"] if endpoint.idempotent or endpoint.name == "make_payment" else [])]
    answers.update({status: {"$ref": f"#/components/responses/Status{status}"} for status in statuses})
    return dict(sorted(answers.items()))


def _account(endpoint: Endpoint) -> Param:
    if endpoint.tenant_level:
        return _p("accountno", TEXT, "optional here (the call is for the tenant); checked when given")
    return _req("accountno", TEXT, "the customer's account number, within the caller's scope")


def _query(param: Param) -> dict[str, Any]:
    found = {"name": param.name, "in": "query", "required": param.required, "schema": param.schema}
    return {**found, "description": param.description} if param.description else found


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    if not description:
        return schema
    # A $ref's siblings are ignored in OpenAPI 3.0: wrap it to describe it.
    return {"allOf": [schema], "description": description} if "$ref" in schema else {**schema, "description": description}


def _fields_schema(endpoint: Endpoint) -> dict[str, Any]:
    params = [_account(endpoint), *endpoint.params]
    properties = {p.name: _described(p.schema, p.description) for p in params}
    properties["token"] = {"type": "string", "description": "the API key, when not in the query string or header"}
    properties.update({f: {"type": "string", "format": "binary", "description": "a ZIP archive, at most 5 MiB"}
                       for f in endpoint.files})
    required = [*(p.name for p in params if p.required), *endpoint.files]
    return {"type": "object", "properties": properties, **({"required": required} if required else {})}


def _body(endpoint: Endpoint) -> dict[str, Any]:
    fields = _ref(f"{endpoint.name}_fields")
    if endpoint.files:
        return {"required": True, "content": {"multipart/form-data": {"schema": fields}}}
    content = {kind: {"schema": fields} for kind in MEDIA_TYPES}
    return {"required": False, "description": "application/json (and text/plain, read as JSON): values may also be "
                                              "numbers, booleans (1/0) or arrays (joined with commas)",
            "content": content}


def _operations(endpoint: Endpoint) -> dict[str, Any]:
    params = [_account(endpoint), *endpoint.params]
    idempotency = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": TEXT,
                   "description": "POST only: a retry with the same key and parameters gets the first answer "
                                  "(24 hours); another request with the key is refused (422)"}
    post: dict[str, Any] = {"summary": endpoint.summary, "operationId": f"{endpoint.name}_post",
                            "description": "parameters in the body (or the query string, merged under it)",
                            "requestBody": _body(endpoint), "responses": _responses(endpoint)}
    if endpoint.idempotent or endpoint.name == "make_payment":
        post["parameters"] = [idempotency]
    get: dict[str, Any] = {"summary": endpoint.summary, "operationId": f"{endpoint.name}_get",
                           "parameters": [_query(p) for p in params], "responses": _responses(endpoint)}
    if endpoint.files:
        get["description"] = "the documents cannot be sent in a query string: use the multipart POST"
    return {"get": get, "post": post}


def spec() -> dict[str, Any]:
    endpoints = _endpoints()
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone wholesale carrier API", "version": "1",
                 "description": "Compatible with the wholesale carrier API (seed 002): every endpoint is "
                                "/carrier/<name>, GET or POST, with the caller's API key as `token` and the "
                                "customer as `accountno`. Answers are JSON with string values and \"status\": "
                                "\"200\"; errors are {\"status\": \"<code>\", \"error\": \"...\"} with that HTTP "
                                "status. Extensions: cdr_upload, cdr_upload_status; from/to on the Billing "
                                "endpoints; amount and Idempotency-Key on make_payment."},
        "servers": [{"url": "/carrier"}],
        "security": [{"token": []}, {"tokenHeader": []}],
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "query", "name": "token",
                          "description": "the caller's API key; in a POST it may be a body field instead. Keys "
                                         "with an IP allow-list are accepted from those addresses only"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "token",
                                "description": "the same key as a header (used when no token parameter is sent)"}},
            "schemas": {**_schemas(), **{f"{e.name}_fields": _fields_schema(e) for e in endpoints},
                        **{f"{e.name}_answer": _answer_schema(e) for e in endpoints}},
            "responses": _error_responses()},
        "paths": {f"/{e.name}": _operations(e) for e in endpoints},
    }


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    # Public: it describes the surface and holds no tenant data.
    return http.json_response(spec())
