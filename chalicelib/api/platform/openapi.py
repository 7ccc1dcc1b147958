"""The OpenAPI 3 description of the billing platform API, served at
/backend/api/v1/openapi.json. Built on request (no cost at import); the
surface tests validate real requests and responses against it, so it cannot
drift silently. Request bodies: openapi_bodies.py."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from chalice import Response

from chalicelib.api import http
from chalicelib.api.platform.dialect import MAX_ID, MAX_OFFSET, MAX_PAGE, bp
from chalicelib.domain.customers import accounts as customers
from chalicelib.lazy import lazy

from chalicelib.api.platform import openapi_bodies as bodies
from chalicelib.api.http import rate_limits

if TYPE_CHECKING:
    from chalicelib.domain.customers import items as customer_items
    from chalicelib.domain.numbers import inventory as numbers
else:
    customer_items = lazy("chalicelib.domain.customers.items")
    numbers = lazy("chalicelib.domain.numbers.inventory")


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    # Public: it describes the surface and holds no tenant data.
    return http.json_response(spec())


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "nullable": True, **extra}


def _obj(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": required if required is not None else list(properties)}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


MONEY = {"type": "number", "description": "Decimal, five places, exact"}
STAMP = _nullable("string", format="date-time", description="ISO 8601, UTC, to the second")
DAY = _nullable("string", format="date")


def _schemas() -> dict[str, Any]:
    status_ids = lambda names: {"type": "integer", "enum": sorted(names)}  # noqa: E731
    number = _obj({
        "id": {"type": "integer"}, "customerID": {"type": "integer"},
        "number": {"type": "string", "description": "10 digits (NPANXXYYYY) in the NANP, +E.164 elsewhere"},
        "status": {"type": "string", "enum": list(numbers.OWNED),
                   "description": "active is what numberActive and active=true select; inactive: dropped"},
        "dateDrop": DAY, "statusReason": _nullable("string"),
        "origin": {"type": "string", "enum": ["inventory", "ported", "own"],
                   "description": "sold from the inventory, ported in, or recorded as the customer's own"},
        "category": {"type": "string", "enum": [*numbers.CATEGORIES, numbers.INTERNATIONAL]},
        "state": _nullable("string", description="landline numbers"), "npanxx": _nullable("string"),
        "rateCenter": _nullable("string"), "city": _nullable("string"),
        "tfnPrefix": _nullable("string", description="toll-free numbers"),
        "monthlyPrice": {**MONEY, "nullable": True}, "setupPrice": {**MONEY, "nullable": True},
        "trunkID": _nullable("integer"), "cnam": _nullable("string"), "orderID": _nullable("integer"),
        "portOrderID": _nullable("integer"), "createdDate": STAMP, "updatedDate": STAMP})
    service = _obj({
        "id": {"type": "integer"}, "customerID": {"type": "integer"}, "name": {"type": "string"},
        "description": _nullable("string"), "reference": _nullable("string"), "quantity": _nullable("integer"),
        "unitPrice": {**MONEY, "nullable": True}, "startDate": DAY,
        "statusID": status_ids(customer_items.SERVICE_STATUS_NAMES),
        "status": {"type": "string", "enum": list(customer_items.SERVICE_STATUS_NAMES.values())},
        "dateApproved": DAY, "dateCancelled": DAY, "statusReason": _nullable("string"),
        "createdDate": STAMP, "updatedDate": STAMP})
    feature = _obj({
        "id": {"type": "integer"}, "customerID": {"type": "integer"}, "name": {"type": "string"},
        "description": _nullable("string"), "unitPrice": {**MONEY, "nullable": True}, "startDate": DAY,
        "statusID": status_ids(customer_items.FEATURE_STATUS_NAMES),
        "status": {"type": "string", "enum": list(customer_items.FEATURE_STATUS_NAMES.values())},
        "dateDrop": DAY, "statusReason": _nullable("string"), "createdDate": STAMP, "updatedDate": STAMP})
    customer_props = {
        "id": {"type": "integer"}, "accountNumber": {"type": "string"}, "customerName": {"type": "string"},
        "name": {"type": "string"}, "statusID": status_ids(customers.STATUS_NAMES),
        "status": {"type": "string", "enum": list(customers.STATUS_NAMES.values())},
        "statusReason": _nullable("string"), "dateDrop": DAY,
        **{f: _nullable("string") for f in ("email", "phone", "contactName", "companyNumber", "address1",
                                             "address2", "city", "state", "postcode", "country")},
        "creditLimit": MONEY, "balance": {**MONEY, "description": "kept by every ledger movement (read-only)"},
        "accountManagerID": _nullable("integer"), "commissionHolderID": _nullable("integer"),
        "pin": _nullable("string", description="set by the generatePIN action"),
        "createdDate": STAMP, "updatedDate": STAMP,
    }
    customer = _obj({**customer_props,
                     "numbers": {"type": "array", "items": _ref("Number"), "description": "with expandNumbers"},
                     "services": {"type": "array", "items": _ref("Service"), "description": "with expandServices"},
                     "features": {"type": "array", "items": _ref("Feature"), "description": "with expandFeatures"}},
                    required=list(customer_props))
    stored_file = _obj({"id": {"type": "integer"}, "fileName": {"type": "string"}, "fileSize": {"type": "integer"},
                        "fileHash": {"type": "string", "description": "SHA-1, hex"}, "mimeType": {"type": "string"},
                        "createdDate": STAMP})
    attachment_props = {"id": {"type": "integer"}, "noteID": {"type": "integer"}, "storedFileID": {"type": "integer"},
                        "fileName": {"type": "string"}, "description": _nullable("string"),
                        "createdDate": STAMP, "updatedDate": STAMP}
    attachment = _obj({**attachment_props, "storedFile": _ref("StoredFile")}, required=list(attachment_props))
    user_props = {"id": {"type": "integer"}, "username": {"type": "string"},
                  "roles": {"type": "array", "items": {"type": "string"}}, "apiOnly": {"type": "boolean"},
                  "canRead": {"type": "boolean"}, "canWrite": {"type": "boolean"},
                  "customerAccess": {"type": "string", "enum": ["all", "manager", "commission", "customer"]},
                  "customerID": _nullable("integer"), "hasAPIKey": {"type": "boolean"},
                  "apiKeyCreatedDate": STAMP, "createdDate": STAMP, "updatedDate": STAMP}
    return {
        "Error": _obj({"error": {"type": "string"}, "error_code": {"type": "integer"}, "hint": {"type": "string"}}),
        "Customer": customer, "Number": number, "Service": service, "Feature": feature,
        "Note": _obj({"id": {"type": "integer"}, "customerID": {"type": "integer"}, "subject": _nullable("string"),
                      "text": {"type": "string"}, "createdByUserID": _nullable("integer"),
                      "createdDate": STAMP, "updatedDate": STAMP}),
        "NoteAttachment": attachment, "StoredFile": stored_file,
        "Payment": _obj({"id": {"type": "integer"}, "customerID": {"type": "integer"}, "amount": MONEY,
                         "method": _nullable("string"), "status": {"type": "string"},
                         "cardBrand": _nullable("string"), "cardLast4": _nullable("string"),
                         "gatewayReference": _nullable("string"), "createdDate": STAMP, "updatedDate": STAMP}),
        "Invoice": _obj({"id": {"type": "integer"}, "customerID": {"type": "integer"},
                         "accountNumber": {"type": "string"},
                         "invoiceDate": {"type": "string", "format": "date",
                                         "description": "the last day of the invoiced month"},
                         "periodStart": {"type": "string", "format": "date"},
                         "periodEnd": {"type": "string", "format": "date"},
                         "openingBalance": MONEY, "payments": MONEY, "adjustments": MONEY, "callCharges": MONEY,
                         "otherCharges": MONEY, "totalCharges": MONEY, "closingBalance": MONEY,
                         "lineCount": {"type": "integer"},
                         "detail": {"type": "string", "enum": ["movements", "categories"]},
                         "createdDate": STAMP, "updatedDate": STAMP}),
        "User": _obj(user_props),
        "UserWithKey": _obj({**user_props, "apiKey": {"type": "string", "description": "shown once"}}),
        "RequestLog": _obj({"time": {"type": "string"}, "requestID": {"type": "string"},
                            "userID": {"type": "integer"}, "username": {"type": "string"},
                            "method": {"type": "string"}, "path": _nullable("string"), "status": {"type": "integer"},
                            "sourceIP": _nullable("string"), "touched": {"type": "array",
                                                                         "items": {"type": "string"}}}),
        "PresignedUpload": _obj({"uploadID": {"type": "integer"}, "url": {"type": "string"},
                                 "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                                 "expiresIn": {"type": "integer"}}),
        **bodies.schemas(),
    }


PARAMS = {
    "idAfter": {"name": "idAfter", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                "description": "only resources with a larger id (the fast way to page)"},
    "updatedSince": {"name": "updatedSince", "in": "query", "schema": {"type": "string", "format": "date-time"},
                     "description": "ISO 8601, years 0001-9999; without an offset, UTC. An unencoded '+' in "
                                    "the offset (read as a space) is understood"},
    "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                         "default": MAX_PAGE}},
    "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}},
    "offest": {"name": "offest", "in": "query", "deprecated": True,
               "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
               "description": "the seed document's spelling of offset; the same parameter"},
    "active": {"name": "active", "in": "query", "schema": {"type": "boolean"}, "allowEmptyValue": True},
}
FLAGS = ("expandNumbers", "expandServices", "expandFeatures", "numberActive", "serviceActive", "featureActive")


def _flag(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "allowEmptyValue": True, "schema": {"type": "boolean"},
            "description": "a bare flag or =true"}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(schema: dict[str, Any], status: str = "200", description: str = "OK") -> dict[str, Any]:
    errors = {code: {"description": text, **_json(_ref("Error"))} for code, text in (
        ("400", "invalid request, action or file (400001-400013, 400501-400503)"),
        ("401", "missing or revoked key (401001), source address not allowed (401002)"),
        ("402", "the charge would take the balance below the credit limit (402001)"),
        ("403", "no permission (403001), action permission (403002), storage quota (403003)"),
        ("404", "not found or outside your customer access (404001)"),
        ("409", "conflict (409001 unique, 409002 concurrent, 409003 wrong state for the action, "
                "409004 number not available)"),
        ("413", "file larger than the limit (413001)"),
        ("500", "the request failed unexpectedly and was logged (500000)"),
        ("503", "storage busy after retries (503001): wait Retry-After seconds and send it again"))}
    errors["503"]["headers"] = {"Retry-After": rate_limits.HEADERS["Retry-After"]}
    return {status: {"description": description, **_json(schema)}, **errors}


def _listing(item: str, *, active: bool = True, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    params = [PARAMS[p] for p in ("idAfter", "updatedSince", "limit", "offset", "offest")] + [_flag(f) for f in extra]
    if active:
        params.append(PARAMS["active"])
    return {"parameters": params, "responses": _answer({"type": "array", "items": _ref(item)})}


def _write(item: str, body: str, status: str = "200") -> dict[str, Any]:
    return {"requestBody": {"required": True, **_json(_ref(body))}, "responses": _answer(_ref(item), status)}


def _action_param(names: Iterable[str]) -> dict[str, Any]:
    """?action=, one of the resource's action names (none: any name is refused, 400501)."""
    known = sorted(names)
    return {"name": "action", "in": "query", "required": True,
            "schema": {"type": "string", **({"enum": known} if known else {})}}


def _action(item: str, actions: dict[str, Any]) -> dict[str, Any]:
    summary = "; ".join(f"{n}: {a.summary}" for n, a in actions.items()) or "none (400501)"
    return {"summary": "actions: " + summary, "parameters": [_action_param(actions)],
            "requestBody": {"required": False, **_json(bodies.action_body(actions))},
            "responses": _answer(_ref(item))}


def _child_paths(plural: str, item: str, actions: dict[str, Any], *, writable: bool = True,
                 active: bool = True) -> dict[str, Any]:
    one: dict[str, Any] = {"parameters": [_id("id")], "get": {"responses": _answer(_ref(item))}}
    every: dict[str, Any] = {"get": _listing(item, active=active)}
    under: dict[str, Any] = {"parameters": [_id("customerId")], "get": _listing(item, active=active)}
    if writable:
        one["patch"] = _write(item, f"{item}Update")
        one["put"] = {**_write(item, f"{item}Update"), "description": "treated as PATCH"}
        one["post"] = _action(item, actions)
        every["post"] = {**_write(item, f"{item}CreateWithCustomer", "201"), "description": "customerID in the body"}
        under["post"] = _write(item, f"{item}Create", "201")
    return {f"/{plural}": every, f"/{plural}/{{id}}": one, f"/customers/{{customerId}}/{plural}": under}


def _number_paths() -> dict[str, Any]:
    """Numbers are read here, added to a customer by POST (sold from the
    inventory, or recorded as the customer's own) and dropped or reinstated
    by action."""
    paths = _child_paths("numbers", "Number", {}, writable=False)
    paths["/numbers/{id}"]["post"] = _action("Number", numbers.ACTIONS)
    assign = _ref("NumberAssign")
    description = ("a number of the tenant's inventory must be available and is sold to the customer: its setup "
                   "and first month plus the per-order pricing are charged (402001 below the credit limit). A "
                   "number the inventory does not hold is recorded as the customer's own: not charged, never "
                   "stock. 409004: the number is already in the tenant's account (sold, in a cart, recorded)")
    paths["/customers/{customerId}/numbers"]["post"] = {
        "description": description, "requestBody": {"required": True, **_json(assign)},
        "responses": _answer(_ref("Number"), "201")}
    paths["/numbers"]["post"] = {
        "description": description + "; customerID in the body",
        "requestBody": {"required": True, **_json(_ref("NumberAssignWithCustomer"))},
        "responses": _answer(_ref("Number"), "201")}
    return paths


def _invoice_paths() -> dict[str, Any]:
    """Read-only; the PDF of one invoice by content negotiation."""
    paths = _child_paths("invoices", "Invoice", {}, writable=False, active=False)
    one = paths["/invoices/{id}"]["get"]
    one["description"] = ("Accept: application/json or none -> the invoice; anything else (application/pdf, "
                          "*/*) -> 303 to its PDF (a presigned S3 URL, short-lived)")
    one["responses"] = {**one["responses"], "303": {"description": "the PDF: Location is a presigned S3 URL"}}
    return paths


@rate_limits.documented
def spec() -> dict[str, Any]:
    customer_expand = [_flag(f) for f in FLAGS]
    paths: dict[str, Any] = {
        "/customers": {"get": {**_listing("Customer"),
                               "parameters": _listing("Customer")["parameters"] + customer_expand},
                       "post": _write("Customer", "CustomerCreate", "201")},
        "/customers/{id}": {
            "parameters": [_id("id")],
            "get": {"parameters": customer_expand, "responses": _answer(_ref("Customer"))},
            "patch": _write("Customer", "CustomerUpdate"),
            "put": {**_write("Customer", "CustomerUpdate"), "description": "treated as PATCH"},
            "post": _action("Customer", customer_items.CUSTOMER_ACTIONS)},
        **_child_paths("services", "Service", customer_items.SERVICE_ACTIONS),
        **_child_paths("features", "Feature", customer_items.FEATURE_ACTIONS),
        **_child_paths("notes", "Note", {}, active=False),
        **_number_paths(),
        **_child_paths("payments", "Payment", {}, writable=False, active=False),
        **_invoice_paths(),
        "/noteAttachments": {"get": _listing("NoteAttachment", active=False, extra=("expandStoredFiles",))},
        "/notes/{id}/noteAttachments": {
            "parameters": [_id("id")],
            "get": _listing("NoteAttachment", active=False, extra=("expandStoredFiles",)),
            "post": {"requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("NoteAttachmentCreate")},
                "multipart/form-data": {"schema": _ref("NoteAttachmentMultipart")}}},
                "responses": _answer(_ref("NoteAttachment"), "201")}},
        "/noteAttachments/{id}": {
            "parameters": [_id("id")],
            "get": {"parameters": [_flag("expandStoredFiles")],
                    "description": "Accept: application/json or none -> metadata; anything else -> the file "
                                   "(303 to a presigned URL when larger than the inline limit)",
                    "responses": {**_answer(_ref("NoteAttachment")),
                                  "200": {"description": "the metadata, or the file's bytes (its own type, with "
                                                         "Content-Disposition: filename and filename*, RFC 6266)",
                                          "content": {"application/json": {"schema": _ref("NoteAttachment")},
                                                      "*/*": {"schema": {"type": "string", "format": "binary"}}}},
                                  "303": {"description": "large file: Location is a presigned S3 URL"}}},
            "patch": _write("NoteAttachment", "NoteAttachmentUpdate"),
            "put": {**_write("NoteAttachment", "NoteAttachmentUpdate"), "description": "treated as PATCH"}},
        "/notes/{id}/noteAttachmentUploads": {
            "parameters": [_id("id")],
            "post": {"description": "presigned S3 POST for files larger than the gateway accepts",
                     "requestBody": {"required": True, **_json(_ref("NoteAttachmentUploadStart"))},
                     "responses": _answer(_ref("PresignedUpload"), "201")}},
        "/noteAttachmentUploads/{id}": {
            "parameters": [_id("id")],
            "post": {"parameters": [_action_param(["complete"])], "description": "action=complete: verify and attach",
                     "requestBody": {"required": False, **_json(bodies.action_body({}))},
                     "responses": _answer(_ref("NoteAttachment"), "201")}},
        "/requestLogs": {"get": {
            "description": "administrators: every request of the tenant; others: their own; newest first",
            "parameters": [{"name": name, "in": "query", "schema": {"type": "string", "format": "date-time"},
                            "description": "ISO 8601, years 0001-9999; at most 31 days are listed (the last "
                                           "31 before until), by default the last 7"} for name in ("since", "until")]
                          + [
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": 1000, "default": 100}}],
            "responses": _answer({"type": "array", "items": _ref("RequestLog")})}},
        "/users": {"get": {"responses": _answer({"type": "array", "items": _ref("User")})}},
        "/users/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "a user id or 'me'"}],
            "get": {"responses": _answer(_ref("User"))},
            "post": {"parameters": [_action_param(bodies.user_actions())],
                     "description": "generateAPIKey {password, totpCode} (own), issueAPIKey (admin, API-only "
                                    "user without key), resetAPIKey (primary data protection)",
                     "requestBody": {"required": False, **_json(bodies.action_body(bodies.user_actions()))},
                     "responses": {**_answer(_ref("UserWithKey")), "429": {
                         "description": "generateAPIKey: too many wrong passwords or codes for this user or from "
                                        "this address lately (429002, the portal's and logins' counters): wait "
                                        "Retry-After seconds",
                         **_json(_ref("Error"))}}}},
    }
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters" and "requestBody" in operation:
                operation["responses"]["415"] = {
                    "description": "a body sent as another media type than the operation accepts; answered "
                                   "before the request reaches the API"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone billing platform API", "version": "1",
                 "description": "Compatible with the billing platform REST API (seed 000). "
                                f"Lists return at most {MAX_PAGE} resources per request."},
        "servers": [{"url": "/backend/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": _schemas()},
        "paths": paths,
    }
