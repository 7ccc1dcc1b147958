"""The OpenAPI 3 description of the call-tracking API, served (without
credentials) at /tracking/v1/openapi.json. Built on request from the route
table, so every registered resource and method is described; the surface and
integration tests validate real responses against it."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import tracking as rules
from chalicelib.api.http import rate_limits

TEXT = {"type": "string"}
NTEXT = {"type": "string", "nullable": True}
STAMP = {"type": "string", "nullable": True, "description": "UTC, ISO 8601 (2026-06-01T10:00:00Z)"}
PAGING = {"total": {"type": "integer", "description": "records in all pages"},
          "page": {"type": "integer", "description": "0 is the first page"},
          "pagesize": {"type": "integer", "description": f"default {rules.DEFAULT_PAGESIZE}, at most {rules.MAX_PAGESIZE}"},
          "numpages": {"type": "integer"}}
CUSTOM = {"type": "string", "nullable": True,
          "description": "custom_N: every slot defined for the entity (see custom_fields), null when unset"}


def _item(properties: dict[str, Any], *, custom: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties)}
    if custom:
        schema["additionalProperties"] = CUSTOM  # custom_N
    else:
        schema["additionalProperties"] = False
    return schema


ITEMS: dict[str, tuple[str, dict[str, Any]]] = {
    "customers": ("customer", _item({"customer_id": TEXT, "name": TEXT, "custnr": TEXT, "corporateid": TEXT,
                                     "email": TEXT}, custom=True)),
    "sources": ("source", _item({"source_id": TEXT, "customer_id": TEXT, "name": TEXT,
                                 "number": {**NTEXT, "description": "the tracking number, E.164"},
                                 "forward_to": {**NTEXT, "description": "where its calls ring, E.164"},
                                 "active": {"type": "string", "enum": ["1", "0"]}, "pool_size": TEXT,
                                 "created": STAMP, "updated": STAMP}, custom=True)),
    "custom_fields": ("custom_field", _item({"custom_field_id": TEXT, "entity": {"type": "string", "enum": list(rules.ENTITIES)},
                                             "slot": TEXT, "name": TEXT,
                                             "type": {"type": "string", "enum": list(rules.FIELD_TYPES)},
                                             "values": {**NTEXT, "description": "an enum's values, comma-separated"}})),
    "voicemail_greetings": ("voicemail_greeting", _item({
        "vm_greeting_id": TEXT, "customer_id": TEXT, "name": TEXT, "active": {"type": "string", "enum": ["1", "0"]},
        "content_type": {"type": "string", "enum": sorted(rules.AUDIO_TYPES.values())}, "size": TEXT,
        "url": {**NTEXT, "description": "presigned GET of the audio in S3 (expires)"}, "created": STAMP,
        "updated": STAMP})),
    "cdrs": ("cdr", _item({"cdr_id": TEXT, "customer_id": TEXT, "source_id": TEXT, "number": TEXT,
                           "caller": NTEXT, "start": STAMP, "answer": STAMP,
                           "duration": {**TEXT, "description": "seconds from start to end"},
                           "billsec": {**TEXT, "description": "answered seconds"},
                           "disposition": {"type": "string", "enum": ["ANSWERED", "NO ANSWER", "BUSY", "FAILED"]},
                           "session": {**NTEXT, "description": "the web session a pool number was handed to"}})),
    "statistics_sources": ("source", _item({"source_id": TEXT, "customer_id": TEXT, "date": TEXT, "calls": TEXT,
                                            "answered": TEXT, "unique_callers": TEXT, "first_time_callers": TEXT,
                                            "average_duration": TEXT})),
    "numbers": ("number", _item({"source_id": TEXT, "number": TEXT, "session": TEXT, "expires": STAMP})),
    "pings": ("ping", _item({"status": TEXT, "version": TEXT, "time": STAMP, "user": TEXT})),
    "errors": ("error", _item({"status": TEXT, "message": TEXT, "field": NTEXT})),
}


def _envelope(name: str, *, paged: bool) -> dict[str, Any]:
    plural = "sources" if name == "statistics_sources" else name
    props: dict[str, Any] = {plural: {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}
    required = list(props)
    if paged:
        props.update(PAGING)  # on lists; a read of one item by its id parameter has none
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _responses(name: str, *, paged: bool) -> dict[str, Any]:
    def error(text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": text, "content": {
            "application/json": {"schema": _envelope("errors", paged=False)},
            "application/xml": {"schema": {"type": "string"}}}}
        if headers:
            answer["headers"] = headers
        return answer

    return {
        "200": {"description": "the items, in the collection's envelope (one item too)", "content": {
            "application/json": {"schema": _envelope(name, paged=paged)},
            "application/xml": {"schema": {"type": "string", "description": "the same as XML"}}}},
        "400": error("invalid input; field names the parameter"),
        "401": error("Digest credentials missing or wrong, or the address not allowed",
                     {"WWW-Authenticate": {"schema": {"type": "string"},
                                           "description": "two challenges: SHA-256 then MD5"}}),
        "403": error("refused: no write permission, or the reason given"),
        "404": error("no such resource, id, or version"),
        "405": error("the method is not allowed", {"Allow": {"schema": {"type": "string"}}}),
    }


PATHS: list[tuple[str, str, bool, dict[str, str]]] = [
    # (template, item schema, paged, {method: summary})
    ("/miscellaneous/ping", "pings", False, {"get": "Check credentials and the source address."}),
    ("/customers", "customers", True, {"get": "All visible customers (or one with customer_id).",
                                       "post": "Create a customer: name (required), custnr, corporateid, email, custom_N.",
                                       "put": "Update the customer named by customer_id.",
                                       "delete": "Drop the customer named by customer_id."}),
    ("/customers/{customer_id}", "customers", False, {"get": "One customer, in the list envelope.",
                                                      "put": "Update: name, custnr, corporateid, email, custom_N. Never creates.",
                                                      "delete": "Drop (Ex-Customer); 403 while it has active sources."}),
    ("/custom_fields", "custom_fields", True, {"get": "Custom-field definitions (read-only)."}),
    ("/statistics/cdrs", "cdrs", True, {"get": "Calls to tracking numbers: customer_id, source_id, date_from, date_to."}),
    ("/statistics/sources", "statistics_sources", True, {"get": "Per source and day figures."}),
]
for _base in ("/sources", "/customers/sources", "/customers/{customer_id}/sources"):
    PATHS += [
        (_base, "sources", True, {"get": "Sources (one with source_id).",
                                  "post": "Create a source: name, number or areacode/state/tollfree, forward_to, custom_N.",
                                  "put": "Update the source named by source_id.",
                                  "delete": "Deactivate the source named by source_id and release its number."}),
        (_base + "/{source_id}", "sources", False, {"get": "One source.", "put": "Update: name, forward_to, custom_N.",
                                                    "delete": "Deactivate and release its number."}),
        (_base + "/{source_id}/number", "numbers", False, {
            "get": "Session tracking: a pool number for ?session=S (the same while the session lives).",
            "post": "Add number (or quantity found by areacode/state/tollfree) to the source's pool."}),
    ]
for _base in ("/customers/voicemail_greetings", "/customers/{customer_id}/voicemail_greetings"):
    PATHS += [
        (_base, "voicemail_greetings", True, {
            "get": "Greetings (one with vm_greeting_id).",
            "post": "Upload: name and audio (WAV or MP3) as base64 field `audio` or multipart file `audio`.",
            "put": "Update name, active of vm_greeting_id.", "delete": "Delete vm_greeting_id and its audio."}),
        (_base + "/{vm_greeting_id}", "voicemail_greetings", False, {
            "get": "One greeting with a presigned URL of its audio.", "put": "Update name, active.",
            "delete": "Delete it and its audio."}),
    ]

DESCRIPTION = f"""The call-tracking API of seed 003 (Freespee's partner API), on Dialtone's one domain core.

* **Base URL** `https://<host>/tracking/v1/`; an unknown version is 404 naming the versions.
* **Authentication**: HTTP Digest (RFC 7616), realm `dialtone`, `qop="auth"`, challenges for SHA-256 and MD5
  (SHA-256 first, both with the same nonce and opaque). Nonces are signed and expire after
  `DIGEST_NONCE_SECONDS` (300 s): then 401 with `stale=true` and clients retry by themselves. A
  `(nonce, nc)` pair is accepted once. Every failure is the same 401; the user's IP allow-list applies too.
  `Host` is required (400 without).
* **Formats**: JSON by default; `.json` / `.xml` after a resource name (`/customers.xml/1`) or
  `Accept: application/xml`. XML: the plural is the root, each item its singular element, null an empty element.
  One item comes in the list envelope. Values are strings; booleans "1"/"0"; times UTC ISO 8601.
* **Requests**: POST/PUT bodies `application/x-www-form-urlencoded` (also `application/x-www-form-urlencode`),
  `application/json`, or `multipart/form-data` for greetings; GET/DELETE query strings. Parameters may follow
  the first `&` of a path (`/statistics/cdrs&page=2`). `_method=PUT|DELETE` on a POST's query string or
  `X-HTTP-Method-Override` change the method (authorised as the effective method).
* **Paging** on every list: `page` (0 first), `pagesize` (default {rules.DEFAULT_PAGESIZE}, max {rules.MAX_PAGESIZE});
  answers carry `total`, `page`, `pagesize`, `numpages`.
* **Statuses**: 200 (creations too, as the document lists), 400 (field named; also a duplicate custnr or an
  unavailable number), 401, 403 (reason given), 404, 405 (with Allow), 500, 503 (retry).
* **statistics** cover at most {rules.STATS_MAX_DAYS} days per request (`date_from`, `date_to`, default the last 7 days).
"""


@rate_limits.documented
def spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for template, name, paged, methods in PATHS:
        entry: dict[str, Any] = {}
        for method, summary in methods.items():
            entry[method] = {"summary": summary, "responses": _responses(name, paged=paged and method == "get")}
        for method in ("get", "post", "put", "delete"):
            if method not in entry:
                entry[method] = {"summary": "Not offered by this resource.",
                                 "responses": {k: v for k, v in _responses(name, paged=False).items()
                                               if k in ("401", "405")}}
        ids = re.findall(r"\{(\w+)\}", template)
        if ids:
            entry["parameters"] = [{"name": i, "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}} for i in ids]
        paths[template] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone call-tracking API (seed 003)", "version": "v1", "description": DESCRIPTION},
        "servers": [{"url": "/tracking/v1"}],
        "security": [{"digest": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"digest": {"type": "http", "scheme": "digest"}},
            "schemas": {name: schema for name, (_, schema) in ITEMS.items()},
        },
    }
