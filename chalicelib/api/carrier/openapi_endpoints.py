"""What each carrier endpoint takes and answers, for its OpenAPI description
(api/carrier/openapi.py builds the document from this table): one entry per
endpoint, its parameters with their types and limits, its success fields,
and the records they show. Nothing is built at import: the functions below
make the tables when the description is asked for."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Limits that live in services (imported by the tests to check they agree;
# not here, where importing the services would load the AWS SDK).
MAX_UPDATE = 100  # services.numbers.inventory.MAX_UPDATE
MAX_STATS_IDS = 100  # services.calls.stats.MAX_IDS
MAX_CDR_DAYS = 366  # services.calls.stats.MAX_DAYS
SEARCH_LIMIT = 100  # api.carrier.origination.SEARCH_LIMIT
SUBSCRIBER_FIELDS = (  # services.numbers.porting.SUBSCRIBER_FIELDS
    "subscriberFirstName", "subscriberLastName", "addressHouseNumber", "addressStreetName", "addressStreetSuffix",
    "addressCity", "addressStateCode", "addressZip", "billingNumber", "losingCarrierName",
    "wirelessAccountNumber", "wirelessPin",
)

TEXT = {"type": "string"}
COUNT = {"type": "string", "pattern": r"^\d+$"}
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}(\d{0,2}[1-9])?$",
         "description": "every amount of this API: two decimal places (the seed's XX.XX), up to five only where "
                        "the further places hold digits (0.00125), never rounded"}
STAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
         "description": "YYYY-MM-DD hh:mm:ss, UTC"}
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


def param(name: str, schema: dict[str, Any] | None = None, description: str = "", required: bool = False) -> Param:
    return Param(name, schema or TEXT, description, required)


def required(name: str, schema: dict[str, Any] | None = None, description: str = "") -> Param:
    return param(name, schema, description, required=True)


def obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [k for k in properties if k not in optional]}


def _texts(names: str) -> dict[str, Any]:
    return {name: TEXT for name in names.split()}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _numbers(name: str, limit: int, what: str = "10-digit numbers (or 1 and 10 digits)") -> Param:
    return required(name, description=f"{what}, comma-separated, at most {limit}")


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _origination_params(*, creating: bool) -> tuple[Param, ...]:
    ipv4 = {"type": "string", "format": "ipv4", "description": "not 0.0.0.0, loopback or multicast"}
    prefix = {"type": "string", "pattern": r"^\d{4,6}$"}
    port = {"type": "string", "pattern": r"^\d{4}$", "description": "1024-9999"}
    title = {"type": "string", "minLength": 1, "maxLength": 100}
    params = (param("title", title, required=creating), param("primaryTrunk", ipv4, required=creating),
              param("primaryPrefix", prefix), param("primaryPort", port), param("secondaryTrunk", ipv4),
              param("secondaryPrefix", prefix), param("secondaryPort", port),
              param("call_forwarding", {"type": "string", "pattern": r"^1[2-9]\d{9}$"}, "11 digits"))
    if not creating:
        return params
    return params + (
        required("billingType", {"type": "string", "enum": ["Metered", "Unmetered"]}, "any letter case"),
        param("sessions", _int(0, 100000), "required (1-100000) when Unmetered"),
        param("mou", {"type": "string", "enum": ["Unlimited"]}))


ORDER_STATUS = {"type": "string", "enum": ["0", "2", "3", "1", "4"],
                "description": "the order's state: 0 generated, 2 queued, 3 charged, 1 complete, 4 failed"}
ORDER_STATE = {"type": "string", "enum": ["generated", "queued", "charged", "complete", "failed"]}
ORDER_FIELDS = {
    "date": STAMP, "amount": MONEY, "per_order_cost": MONEY, "taxes": MONEY, "other_charges": MONEY,
    "discount": MONEY, "tg_id": TEXT, "orderType": TEXT,
    "didCategory": {"type": "string", "enum": ["Landline", "TollFree", "Mixed"]}, "didType": TEXT,
    "sessions": COUNT, "numbers": {"type": "array", "items": NUMBER}}


def record_schemas() -> dict[str, Any]:
    from chalicelib.domain.numbers import inventory as numbers
    from chalicelib.domain.numbers import porting

    stats = {"accountno": TEXT, "number": {"type": "string", "description": "the number or trunk group asked for"},
             "processed": COUNT, "completed": COUNT, "acd": {**COUNT, "description": "whole seconds"},
             "asr": {"type": "string", "pattern": r"^\d+%$"}, "mou": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
             "peak": COUNT}
    port_status = {"type": "string", "enum": list(porting.STATUS_CODES.values()),
                   "description": "0 submitted, 2 FOC confirmed, 1 complete, 3 rejected, 4 cancelled"}
    zero = {"type": "string", "enum": ["0.00"]}
    shown = [f for f in SUBSCRIBER_FIELDS if f not in ("wirelessAccountNumber", "wirelessPin", "billingNumber")]
    return {
        "Error": obj({"status": {"type": "string", "pattern": r"^\d{3}$", "description": "the HTTP status"},
                       "error": {"type": "string", "description": "a bad parameter: 'Invalid <parameter>'"}}),
        "State": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                  "description": "a US state or territory, any letter case: " + " ".join(sorted(numbers.US_STATES))},
        "Stats": obj(stats),
        "MonthlyStats": obj({**stats, "month": {"type": "string", "pattern": r"^\d{4}-\d{2}-1$"}}),
        "DailyFiles": obj({"date": STAMP, "success": URL, "failed": URL}),
        "Order": obj({"orderno": TEXT, "accountno": TEXT, **ORDER_FIELDS, "status": ORDER_STATUS,
                       "state": ORDER_STATE,
                       "history": _list(obj({"status": TEXT, "date": STAMP, "note": TEXT}, optional=("note",)))}),
        "PortOrder": obj({
            **_texts("orderno accountno tg_id orderType didType sessions actualFocDate billingNumber "
                     "loaAuthorizingPerson lastModifiedDate lastModifiedBy"), **_texts(" ".join(shown)),
            **{k: zero for k in ("amount", "per_order_cost", "taxes", "other_charges", "discount")},
            "date": STAMP, "didCategory": {"type": "string", "enum": ["Landline", "TollFree"]},
            "status": port_status, "state": {"type": "string", "enum": list(porting.STATES)},
            "requestedFocDate": STAMP, "numbers": _list(NUMBER),
            "subscriberType": {"type": "string", "enum": list(porting.SUBSCRIBER_TYPES)},
            "immediately": {"type": "boolean"}, "triggered": {"type": "boolean"}, "loa": URL, "carrier_doc": URL,
            "history": _list(obj(_texts("status at by")))}),
        "OriginationTrunk": obj({
            **_texts("id accountno title primaryIP primaryPort prefix_1 secondaryIP secondaryPort prefix_2 "
                     "req_sessions alloc_sessions mou call_forwarding"), "date": STAMP,
            "billingType": {"type": "string", "enum": ["Metered", "Unmetered"]},
            "status": {"type": "string", "enum": ["1", "0"], "description": "1 enabled, 0 disabled"}}),
        "TerminationTrunk": obj({
            **_texts("id accountno title ipaddress cps"), "ports": COUNT, "ports_assigned": COUNT,
            "cps_assigned": COUNT, "config": {**URL, "description": "the settings PDF"},
            "status": {"type": "string", "enum": ["1", "0"]}}),
        "MyNumber": obj({
            **_texts("trunkGroup prefix1 trunkGroup2 prefix2 didType orderType cnam trunkId orderno"),
            "didnumber": NUMBER, "didRate": MONEY, "category": {"type": "string", "enum": list(numbers.CATEGORIES)},
            "status": {"type": "string", "enum": list(numbers.STATUS_CODES.values()),
                       "description": "1 active, 0 inactive, 2 cancelled"}}),
    }


def endpoints() -> list[Endpoint]:
    from chalicelib.domain.money import ledger
    from chalicelib.domain.numbers import inventory as numbers
    from chalicelib.domain.numbers import porting

    state = ref("State")
    category = {"type": "string", "description": "landline or tollfree (any case; '-' and spaces ignored)"}
    tfn_prefix = {"type": "string", "enum": list(numbers.TOLLFREE_PREFIXES)}
    npanxx = {"type": "string", "pattern": r"^[2-9]\d{2}[2-9]\d{2}$"}
    status_code = {"type": "string", "enum": list(numbers.STATUS_CODES.values()),
                   "description": "1 active, 0 inactive, 2 cancelled"}
    tns = {"type": "array", "items": NUMBER, "description": "one number per element"}
    reserved = {"reserveId": TEXT, "TNs": tns, "expiresAt": {"type": "string", "description": "ISO 8601, UTC"}}
    added = {"success": TEXT, "tg_id": TEXT}
    period = (param("from", DAY), param("to", DAY))
    stats_ids = lambda name, what: _numbers(name, MAX_STATS_IDS, what)  # noqa: E731
    monthly = (required("year", _int(1970, 9999)), param("month", _int(1, 12), "default: the whole year"))
    daily = (required("from", DAY), required("to", DAY, f"at most {MAX_CDR_DAYS} days after from"))
    data = lambda item: {"data": _list(item)}  # noqa: E731
    activities = [ledger.ALL_ACTIVITY, *ledger.ACTIVITIES]
    plain_name = {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", "maxLength": 128}
    return [
        # Origination: availability, search, reservations.
        Endpoint("availabilitystate", "states with available landline numbers", (), data(TEXT)),
        Endpoint("availabilitynpanxx", "NPANXXs with available numbers in a state", (required("state", state),),
                 data(obj({"NPANXX": TEXT, "NPA": TEXT, "RateCenter": TEXT, "available": COUNT}))),
        Endpoint("searchdid", f"up to {SEARCH_LIMIT} available landline numbers, ascending",
                 (param("state", state, "required unless NPANXXYYYY is given"), param("NPANXX", npanxx),
                  param("NPANXXYYYY", TEXT, "one number, 10 digits (or 1 and 10)"), param("city")),
                 {"DIDs": _list(obj({"TN": NUMBER, "statusid": {"type": "string", "enum": ["0"]}}))}),
        Endpoint("searchtfn", f"up to {SEARCH_LIMIT} available toll-free numbers",
                 (required("tfn_prefix", tfn_prefix),),
                 {"TFNs": _list(obj({"TN": NUMBER, "statusid": {"type": "string", "enum": ["0"]}}))}),
        Endpoint("reserve", "reserve the listed numbers, all or none, into the customer's Order Cart "
                 "(its open cart, whose hold is extended, or a new one)",
                 (required("category", category), _numbers("number", numbers.MAX_BULK), param("state", state),
                  param("npanxx", npanxx), param("tfn_prefix", tfn_prefix)), reserved, idempotent=True),
        Endpoint("bulkreserve", "reserve the lowest available numbers matching, all or none, into the "
                 "customer's Order Cart",
                 (required("category", category), required("quantity", _int(1, numbers.MAX_BULK)),
                  param("state", state, "landline: a state or an npanxx"), param("npanxx", npanxx), param("city"),
                  param("tfn_prefix", tfn_prefix, "required for tollfree")), reserved, idempotent=True),
        Endpoint("remove_reserved", "release reserved numbers (all of the reservation by default)",
                 (required("reserveId"), param("number", TEXT, "comma-separated")),
                 {"Removed TNs": tns, "TNs not available": tns}),
        # Origination trunk groups and the account's numbers.
        Endpoint("defineTrunk", "define an origination trunk group", _origination_params(creating=True), added,
                 idempotent=True),
        Endpoint("get_trunk", "the origination trunk group tg_id, or all of them", (param("tg_id"),),
                 data(ref("OriginationTrunk"))),
        Endpoint("update_trunk", "change only the fields given",
                 (required("trunkid"), *_origination_params(creating=False)), {"trunkid": TEXT, "success": TEXT}),
        Endpoint("getnumbers", "the account's numbers",
                 (param("category", category), param("status", status_code),
                  param("trunkId", {"type": "integer", "minimum": 0}),
                  param("orderno", {"type": "integer", "minimum": 0})), data(ref("MyNumber"))),
        Endpoint("updatenumber", "change numbers' status, trunk group or CNAM, all or none",
                 (_numbers("number", MAX_UPDATE), param("status", status_code), param("trunkId"),
                  param("cnam", {"type": "string", "pattern": r"^[A-Za-z0-9 ._,&-]{1,15}$"})), {"success": TEXT}),
        # Orders.
        Endpoint("gen_order", "order every number of the Order Cart (the reserveId that reserve and bulkreserve "
                 "answered: consecutive reservations of a customer join its open cart); \"status\" is the "
                 "answer's \"200\", the order's own state is orderStatus / orderState",
                 (param("reserveId", TEXT, "the cart to order; default: the customer's open Order Cart"),
                  required("trunk_id")),
                 {"success": TEXT, "orderId": TEXT, "reserveId": {**TEXT, "description": "the cart ordered"},
                  **ORDER_FIELDS, "orderStatus": ORDER_STATUS, "orderState": ORDER_STATE}, idempotent=True),
        Endpoint("process_order", "queue the order: the order worker charges and activates it", (required("orderId"),),
                 {"success": TEXT, "orderId": TEXT}, idempotent=True),
        Endpoint("get_new_orders", "the order orderId, or all of them", (param("orderId"),),
                 {"Orders": _list(ref("Order"))}),
        # Porting.
        Endpoint("check_lnp", "which numbers may be ported in, with the reasons for the others",
                 (_numbers("numbers", porting.MAX_PORT_NUMBERS),),
                 {"accepted": _list(NUMBER), "rejected": _list(NUMBER),
                  "reasons": {"type": "object", "additionalProperties": TEXT, "description": "by rejected number"}}),
        Endpoint("generate_lnp_order", "a port-in order for the portable numbers (multipart POST only)",
                 (_numbers("numbers", porting.MAX_PORT_NUMBERS), required("category", category),
                  required("subscriberType", {"type": "string", "enum": list(porting.SUBSCRIBER_TYPES)}, "any case"),
                  required("loaAuthorizingPerson", TEXT, "first and last name"),
                  param("requestedFocDate", STAMP, "a business day, not before the losing carriers' minimum days; "
                                                "default: the first such day"),
                  *(param(f) for f in SUBSCRIBER_FIELDS)),
                 {**_texts("success orderNo tg_id didType sessions"), "date": STAMP,
                  "orderStatus": {"type": "string", "enum": list(porting.STATUS_CODES.values()),
                                  "description": "the port order's state: 0 submitted, 2 FOC confirmed, "
                                                 "1 complete, 3 rejected, 4 cancelled"},
                  "orderState": {"type": "string", "enum": list(porting.STATES)},
                  **{k: {"type": "string", "enum": ["0.00"]} for k in ("amount", "per_order_cost", "taxes",
                                                                        "other_charges", "discount")},
                  "orderType": {"type": "string", "enum": ["Portin"]}, "requestedFocDate": STAMP,
                  "didCategory": {"type": "string", "enum": ["Landline", "TollFree"]},
                  "acceptedTns": _list(NUMBER), "rejectedTns": _list(NUMBER)},
                 idempotent=True, files=("loa_doc", "carrier_doc")),
        Endpoint("get_lnp_orders", "the port order orderId, or all of them", (param("orderId"),),
                 {"Orders": _list(ref("PortOrder"))}),
        # Termination trunks.
        Endpoint("defineTrunk_termination", "define a termination trunk",
                 (required("title", {"type": "string", "minLength": 1, "maxLength": 100}),
                  required("ipaddress", {"type": "string", "format": "ipv4"}), required("ports", _int(1, 1000)),
                  param("cps", _int(1, 1000))), added, idempotent=True),
        Endpoint("get_trunk_termination", "the termination trunk tg_id, or all of them", (param("tg_id"),),
                 data(ref("TerminationTrunk"))),
        Endpoint("disable_trunk_termination", "disable a termination trunk", (required("tg_id"),),
                 {"Removed TNs": {"type": "string", "enum": ["Diabled Successfully"], "description": "sic"}}),
        # Billing.
        Endpoint("get_invoices", "the invoices dated in the period (default: the last 366 days)", period,
                 data(obj({"date": STAMP, "file": {**URL, "description": "the invoice PDF"}}))),
        Endpoint("financial_summary", "ledger movements in the period (default: the last 31 days)",
                 (param("activitytype", {"type": "string", "enum": activities}, "any letter case"), *period),
                 data(obj({"accountno": TEXT, "date": STAMP, "activity": {"type": "string", "enum": activities[1:]},
                            "debit": MONEY, "credit": MONEY, "balance": MONEY}))),
        Endpoint("get_payments", "card payments in the period (default: the last 366 days)",
                 (param("referenceno"), *period,
                  param("method", {"type": "string", "enum": list(ledger.METHOD_ACTIVITY)})),
                 data(obj({"accountno": TEXT, "date": STAMP, "referenceno": TEXT, "funded_amount": MONEY,
                            "charges": MONEY, "amount": MONEY, "method": TEXT,
                            "status": {"type": "string", "enum": ["1", "0", "2", "3"],
                                       "description": "1 approved, 0 pending, 2 declined, 3 failed"}}))),
        Endpoint("make_payment", "charge a card and credit the balance",
                 (required("cardnumber", {"type": "string", "pattern": r"^[\d -]+$"}, "12-19 digits, Luhn"),
                  required("expmonth", _int(1, 12)),
                  required("expyear", {"type": "integer"}, "YY or YYYY, not expired"),
                  required("cvv", {"type": "string", "pattern": r"^\d{3,4}$"}), required("firstname"),
                  required("lastname"),
                  param("amount", {"type": "string"}, "decimal; default: the balance due"),
                  param("idempotency_key", TEXT, "or the Idempotency-Key header")),
                 {"success": TEXT, "referenceno": TEXT, "amount": MONEY},
                 also={"202": ("the gateway did not answer: recorded as pending, settled by reconciliation",
                               obj({"status": {"type": "string", "enum": ["202"]}, "success": TEXT,
                                     "referenceno": TEXT, "amount": MONEY}))}),
        # Statistics and CDR files.
        Endpoint("did_stats", "all-time figures of the account's numbers",
                 (stats_ids("number", "numbers (10 or 11 digits)"),), data(ref("Stats"))),
        Endpoint("tg_stats", "all-time figures of origination trunk groups",
                 (stats_ids("tg_id", "trunk group ids"),), data(ref("Stats"))),
        Endpoint("tg_stats_termination", "all-time figures of termination trunks",
                 (stats_ids("tg_id", "trunk ids"),), data(ref("Stats"))),
        Endpoint("monthly_summary", "per number and month (inbound)", monthly, data(ref("MonthlyStats"))),
        Endpoint("monthly_summary_termination", "per trunk and month (outbound)", monthly, data(ref("MonthlyStats"))),
        Endpoint("daily_cdrs", "CDR files of closed days (inbound), newest first", daily, data(ref("DailyFiles"))),
        Endpoint("daily_cdrs_termination", "the same, outbound", daily, data(ref("DailyFiles"))),
        Endpoint("cdr_upload", "extension: a presigned S3 POST for one CDR file (tenant-level writers)",
                 (required("filename", plain_name),),
                 {"url": TEXT, "fields": {"type": "object", "additionalProperties": TEXT,
                                          "description": "send each, then the file as 'file', to url"},
                  "filename": {"type": "string", "description": "the stored name, for cdr_upload_status"},
                  "maxsize": COUNT, "expires": STAMP}, tenant_level=True),
        Endpoint("cdr_upload_status", "extension: what became of an uploaded CDR file",
                 (required("filename", {**plain_name, "maxLength": 154}, "as cdr_upload answered it"),),
                 {"state": {"type": "string", "enum": ["pending", "processing", "done", "repeated"]},
                  **{k: COUNT for k in ("rows", "accepted", "duplicate", "rejected")},
                  "errors": _list({"type": "object", "additionalProperties": TEXT,
                                   "description": "line (or part_line) and reason"})},
                 optional=("rows", "accepted", "duplicate", "rejected", "errors"),
                 tenant_level=True),
    ]
