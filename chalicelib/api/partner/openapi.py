"""The OpenAPI 3 description of the partner billing API (seed 001), served at
/partner/api/v1/openapi.json. Built on request (no cost at import); the
surface tests check that every registered route is described and validate
real answers against it, so it cannot drift silently.

The seed shows behaviour, not paths: the paths are ours (docs/money.md)."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.http import rate_limits
from chalicelib.api.platform.openapi_bodies import CUSTOMER_TEXT  # the customer's limits, one table

MIN_PASSWORD = 8  # keep equal to services.identity.signup.MIN_PASSWORD (a test checks)
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded", "application/json")
TEXT = {"type": "string"}
MONEY = {"type": "number", "description": "decimal, up to five places, exact"}
DAY = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}",
       "description": "YYYY-MM-DD (a time after the date is ignored)"}
ACCOUNT = {"type": "string", "minLength": 1, "description": "the customer's account number"}
CAPTCHA = {"type": "string", "minLength": 1,
           "description": "a reCAPTCHA response token, verified with Google for the caller's address (test stages: "
                          "exactly test-pass)"}
# (status, error names, when): the table in api/partner/errors.py.
ERRORS = (
    ("400", ["invalid_request", "captcha_failed", "invalid_link"],
     "invalid_request: a bad or missing field or date (field names it); captcha_failed: google_captcha missing or "
     "refused; invalid_link: a one-time code unknown, expired, used or forged"),
    ("401", ["not_authorised"], "a missing or wrong token, a source address outside the user's allow-list, or a "
                                "user with no allow-list (the caller's address must be listed)"),
    ("402", ["insufficient_funds"], "the debited side would go below its credit limit"),
    ("403", ["permission_denied"], "a read-only user writing, or a user without access to all customers"),
    ("404", ["not_found"], "an unknown account number (or one outside the caller's access)"),
    ("409", ["conflict"], "too much contention on the account; retry"),
    ("503", ["service_unavailable"], "the platform's storage is busy; retry after Retry-After seconds"),
)


def _obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [k for k in properties if k not in optional]}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(data: dict[str, Any]) -> dict[str, Any]:
    return _obj({"code": {"type": "integer", "enum": [200]}, "data": data})


def _schemas() -> dict[str, Any]:
    statement = {k: MONEY for k in ("opening_balance", "payments", "adjustments", "call_charges", "other_charges",
                                    "total_charges", "closing_balance")}
    return {
        "Error": _obj({"code": {"type": "integer", "description": "the HTTP status"},
                       "error": {"type": "string", "enum": sorted({n for _, names, _ in ERRORS for n in names})},
                       "message": TEXT, "field": {"type": "string", "nullable": True,
                                                  "description": "the field at fault, when one is"}}),
        "InternalError": _obj({"code": {"type": "integer", "enum": [500]},
                               "error": {"type": "string", "enum": ["internal_error"]}, "message": TEXT}),
        "GatewayError": _obj({"Code": TEXT, "Message": TEXT}),
        "Statement": _ok(_obj(statement)),
        "Funds": _ok(_obj({"customer_balance": MONEY, "customer_credit_limit": MONEY})),
        "Registered": _ok(_obj({"account_number": TEXT})),
        "EmailConfirmed": _ok(_obj({"account_number": TEXT, "email_confirmed": {"type": "boolean", "enum": [True]}})),
        "LoginURL": _ok(_obj({"url": {"type": "string", "description": "GET it to exchange its code for a session "
                                                                       "(single use)"},
                              "expires_in": {"type": "integer", "description": "seconds"}})),
        "ResetSent": _ok(_obj({"account_number": TEXT, "sent": {"type": "boolean", "enum": [True]}})),
        "Session": _ok(_obj({"session_token": TEXT, "expires_in": {"type": "integer", "description": "seconds"}})),
        "PasswordChanged": _ok(_obj({"password_changed": {"type": "boolean", "enum": [True]}})),
    }


def _responses() -> dict[str, Any]:
    found = {f"Status{status}": {"description": f"{', '.join(names)}: {when}", **_json(_ref("schemas", "Error"))}
             for status, names, when in ERRORS}
    found["Status503"]["headers"] = {"Retry-After": rate_limits.HEADERS["Retry-After"]}
    unsupported = _obj({"code": {"type": "integer", "enum": [415]},
                        "error": {"type": "string", "enum": ["unsupported_media_type"]}, "message": TEXT,
                        "field": {"type": "string", "nullable": True}})
    found["Status415"] = {"description": "a Content-Type the operation does not accept (answered before the "
                                         "operation, in the same envelope)", **_json(unsupported)}
    found["Status500"] = {"description": "the request failed unexpectedly (an operation without an API key may "
                                         "answer in the framework's shape)",
                          **_json({"oneOf": [_ref("schemas", "InternalError"), _ref("schemas", "GatewayError")]})}
    return found


def _operation(summary: str, answer: str, statuses: tuple[str, ...], *, parameters: list[Any] | None = None,
               body: dict[str, Any] | None = None, public: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {
        "200": {"description": "OK", **_json(_ref("schemas", answer))},
        **{s: _ref("responses", f"Status{s}") for s in sorted({*statuses, "415", "500", "503"})}}}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        fields = {"type": "object", "properties": body["properties"],
                  **({"required": body["required"]} if body["required"] else {}),
                  "description": "text fields; in JSON, values are read as text"}
        operation["requestBody"] = {"required": bool(body["required"]),
                                    "content": {kind: {"schema": fields} for kind in FORMS}}
    if public:
        operation["security"] = []
    return operation


def _form(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"properties": {**required, **(optional or {})}, "required": list(required)}


def _query(name: str, schema: dict[str, Any], description: str = "", required: bool = False) -> dict[str, Any]:
    found = {"name": name, "in": "query", "required": required, "schema": schema}
    return {**found, "description": description} if description else found


@rate_limits.documented
def spec() -> dict[str, Any]:
    period = [_query("initial_date", DAY, "default: the first day of final_date's month"),
              _query("final_date", DAY, "default: today (UTC)")]
    account = {"name": "account_number", "in": "path", "required": True, "schema": ACCOUNT}
    captcha_only = _form({"google_captcha": CAPTCHA})
    signed_up = ("400", "401", "403", "404", "409")
    contact = ("phone", "contactName", "companyNumber", "address1", "address2", "city", "state", "postcode", "country")
    password = {"type": "string", "minLength": MIN_PASSWORD}
    code = {"type": "string", "description": "the one-time code of the e-mailed or returned link"}
    paths: dict[str, Any] = {
        "/customers/{account_number}/balance": {"parameters": [account], "get": _operation(
            "the customer's statement for the period", "Statement", ("400", "401", "403", "404"),
            parameters=period)},
        "/balance": {"get": _operation("the partner wallet's statement for the period", "Statement",
                                       ("400", "401", "403"), parameters=period)},
        "/funds": {"put": _operation(
            "move funds from the partner's wallet to a customer (positive) or back (negative)", "Funds",
            ("400", "401", "402", "403", "404", "409"),
            parameters=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": TEXT,
                         "description": "a retry with the same key moves the funds once"}],
            body=_form({"account_number": ACCOUNT,
                        "amount": {"type": "string",
                                   "pattern": r"^[+-]?(?=[0-9.]*[1-9])[0-9]{1,15}(\.[0-9]{1,5})?$",
                                   "description": "decimal, not zero, at most five places"}},
                       {"description": {"type": "string", "maxLength": 500}}))},
        "/customers": {"post": _operation(
            "register a customer and its user (username = e-mail); a confirmation e-mail is sent", "Registered",
            signed_up, body=_form({"google_captcha": CAPTCHA,
                                   "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                                   "email": {"type": "string", "format": "email", "maxLength": 254},
                                   "password": password},
                                  {k: {"type": "string", "maxLength": CUSTOMER_TEXT[k]} for k in contact}))},
        "/customers/{account_number}/confirm-email": {"parameters": [account], "post": _operation(
            "confirm the customer's e-mail with the code of the e-mailed link", "EmailConfirmed", signed_up,
            body=_form({"google_captcha": CAPTCHA, "code": code}))},
        "/customers/{account_number}/login-url": {"parameters": [account], "post": _operation(
            "a single-use login link for the customer's user (5 minutes)", "LoginURL", signed_up,
            body=captcha_only)},
        "/customers/{account_number}/reset-password": {"parameters": [account], "post": _operation(
            "e-mail the customer's user a password reset link (1 hour, single use)", "ResetSent", signed_up,
            body=captcha_only)},
        "/session": {
            "get": _operation("exchange a login link's code for a session (no API key: the code is the "
                              "credential)", "Session", ("400",),
                              parameters=[_query("code", code, required=True)], public=True),
            "post": _operation("the same, with the code in the query string or the body", "Session", ("400",),
                               parameters=[_query("code", code)], body=_form({}, {"code": code}), public=True)},
        "/password": {"post": _operation("set a new password with a reset link's code (no API key)",
                                         "PasswordChanged", ("400",),
                                         body=_form({"code": code, "password": password}), public=True)},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone partner billing API", "version": "1",
                 "description": "The partner billing API (seed 001). Answers are {\"code\": 200, \"data\": ...}; "
                                "errors {\"code\": <status>, \"error\": <name>, \"message\", \"field\"}. Every "
                                "POST with an API key also needs google_captcha. The confirm and reset links its e-mails "
                                "carry open HTML pages at /partner/confirm-email and /partner/reset-password "
                                "(outside this API: GET shows a form, POST acts)."},
        "servers": [{"url": "/partner/api/v1"}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {"token": {
                "type": "apiKey", "in": "header", "name": "token",
                "description": "an API key, accepted only from an address on its user's IP allow-list "
                               "(a user without one has no access); otherwise 401 not_authorised"}},
            "schemas": _schemas(), "responses": _responses()},
        "paths": paths,
    }


def served() -> Response:
    """The answer of GET /partner/api/v1/openapi.json (the route is in the package's __init__)."""
    return http.json_response(spec())
