"""The OpenAPI 3 description of the wholesale carrier API (seed 002), served at
/carrier/openapi.json. Built on request (no cost at import); the surface tests
check that every registered endpoint is described and validate real answers
against it, so it cannot drift silently.

Every endpoint is ``/carrier/<name>`` for GET (parameters in the query string)
and POST (the same in a form, multipart or JSON body, or the query string):
``openapi_endpoints.endpoints()`` lists each one's parameters and answer once,
and both operations are made from its entry."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.carrier.openapi_endpoints import (Endpoint, Param, endpoints, obj, param, record_schemas, ref,
                                                      required)
from chalicelib.api.http import rate_limits

MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain")
TEXT = {"type": "string"}

ERRORS = {
    "401": "Invalid token: no key, an unknown or revoked one, or a source address outside the key's allow-list",
    "402": "the card was declined, or the charge would take the balance below the credit limit",
    "403": "not permitted: a read-only user writing, or a user below the tenant level calling an extension",
    "404": "a missing or bad parameter, or one naming something outside the caller's scope: "
           "'Invalid <parameter>' (also 'Invalid body' for a malformed body)",
    "409": "conflict: the record is in the wrong state for the call, already exists, or is contended (retry)",
    "500": "Internal error",
    "503": "storage busy after retries: wait Retry-After seconds and send it again",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error_responses() -> dict[str, Any]:
    found = {status: {"description": text, **_json(ref("Error"))} for status, text in ERRORS.items()}
    found["422"] = {"description": "the Idempotency-Key was used with different parameters, or its first request "
                                   "is still running", **_json(ref("Error"))}
    found["415"] = {"description": "a Content-Type other than " + ", ".join(MEDIA_TYPES) + " (answered before "
                                   "the endpoint, in the same envelope)", **_json(ref("Error"))}
    found["503"]["headers"] = {"Retry-After": rate_limits.HEADERS["Retry-After"]}
    return {f"Status{status}": answer for status, answer in found.items()}


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    answers: dict[str, Any] = {"200": {"description": "OK", **_json(ref(f"{endpoint.name}_answer"))}}
    for status, (description, schema) in endpoint.also.items():
        answers[status] = {"description": description, **_json(schema)}
    statuses = [*ERRORS, "415", *(["422"] if endpoint.idempotent else [])]
    answers.update({status: {"$ref": f"#/components/responses/Status{status}"} for status in statuses})
    return dict(sorted(answers.items()))


def _account(endpoint: Endpoint) -> Param:
    if endpoint.tenant_level:
        return param("accountno", TEXT, "optional here (the call is for the tenant); checked when given")
    return required("accountno", TEXT, "the customer's account number, within the caller's scope")


def _query(param: Param) -> dict[str, Any]:
    found = {"name": param.name, "in": "query", "required": param.required, "schema": param.schema}
    return {**found, "description": param.description} if param.description else found


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    if not description:
        return schema
    # A $ref's siblings are ignored in OpenAPI 3.0: wrap it to describe it.
    return {"allOf": [schema], "description": description} if "$ref" in schema else {
        **schema, "description": description}


def _fields_schema(endpoint: Endpoint) -> dict[str, Any]:
    params = [_account(endpoint), *endpoint.params]
    properties = {p.name: _described(p.schema, p.description) for p in params}
    properties["token"] = {"type": "string", "description": "the API key, when not in the query string or header"}
    properties.update({f: {"type": "string", "format": "binary", "description": "a ZIP archive, at most 5 MiB"}
                       for f in endpoint.files})
    required = [*(p.name for p in params if p.required), *endpoint.files]
    return {"type": "object", "properties": properties, **({"required": required} if required else {})}


def _body(endpoint: Endpoint) -> dict[str, Any]:
    fields = ref(f"{endpoint.name}_fields")
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
    get: dict[str, Any] = {"summary": endpoint.summary, "operationId": f"{endpoint.name}_get",
                           "parameters": [_query(p) for p in params], "responses": _responses(endpoint)}
    if endpoint.idempotent:
        post["parameters"] = [idempotency]
    if endpoint.name == "make_payment":  # its own key, on either method (docs/money.md)
        payment_key = {**idempotency, "description": "or the idempotency_key parameter: a retry with the same key "
                                                     "and amount returns the first payment (a refused one is "
                                                     "refused again); another amount is 'Invalid idempotency_key'"}
        post["parameters"] = [payment_key]
        get["parameters"].append(payment_key)
    if endpoint.files:
        get["description"] = "the documents cannot be sent in a query string: use the multipart POST"
    return {"get": get, "post": post}


@rate_limits.documented
def spec() -> dict[str, Any]:
    described = endpoints()
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone wholesale carrier API", "version": "1",
                 "description": "Compatible with the wholesale carrier API (seed 002): every endpoint is "
                                "/carrier/<name>, GET or POST, with the caller's API key as `token` and the "
                                "customer as `accountno`. Answers are JSON with string values and \"status\": "
                                "\"200\" (an order's own state is orderStatus / orderState); errors are "
                                "{\"status\": \"<code>\", \"error\": \"...\"} with that HTTP status. "
                                "Amounts are strings with two decimal places (XX.XX), more only where the further "
                                "places hold digits. A parameter sent in the query and the body must have one "
                                "value: different values are refused (404 Invalid <parameter>). Extensions: "
                                "cdr_upload, cdr_upload_status; from/to on the Billing endpoints; amount and "
                                "Idempotency-Key on make_payment; gen_order without reserveId."},
        "servers": [{"url": "/carrier"}],
        "security": [{"token": []}, {"tokenHeader": []}],
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "query", "name": "token",
                          "description": "the caller's API key; in a POST it may be a body field instead (not "
                                         "both with different values). Keys "
                                         "with an IP allow-list are accepted from those addresses only"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "token",
                                "description": "the same key as a header (used when no token parameter is sent)"}},
            "schemas": {**record_schemas(), **{f"{e.name}_fields": _fields_schema(e) for e in described},
                        # The envelope's "status" last: an answer field cannot redefine it.
                        **{f"{e.name}_answer": obj({**e.answer, "status": {"type": "string", "enum": ["200"]}},
                                                    optional=e.optional) for e in described}},
            "responses": _error_responses()},
        "paths": {f"/{e.name}": _operations(e) for e in described},
    }


def served() -> Response:
    """The answer of GET /carrier/openapi.json (the route is in the package's __init__)."""
    return http.json_response(spec())
