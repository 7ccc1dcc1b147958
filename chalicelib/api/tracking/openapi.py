"""The OpenAPI 3 description of the call-tracking API, served (without
credentials) at /tracking/v1/openapi.json. Built on request from the route
table, so every registered resource and method is described; the surface and
integration tests validate real responses against it."""
from __future__ import annotations

import re
from typing import Any, Sequence

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


def _plural(name: str) -> str:
    return "sources" if name == "statistics_sources" else name


def _envelope(name: str, *, paged: bool) -> dict[str, Any]:
    props: dict[str, Any] = {_plural(name): {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}
    required = list(props)
    if paged:
        props.update(PAGING)  # on lists; a read of one item by its id parameter has none
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _xml_envelope(name: str, *, paged: bool) -> dict[str, Any]:
    """The same envelope as XML (render.py): the plural is the root, the
    paging fields its first children, then one element per item."""
    singular = ITEMS[name][0]
    props: dict[str, Any] = dict(PAGING) if paged else {}
    props[singular] = {"type": "array", "xml": {"name": singular},
                       "items": {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "xml": {"name": singular}}}
    return {"type": "object", "xml": {"name": _plural(name)}, "properties": props,
            "description": "XML 1.0, UTF-8; a null is an empty element (<custom_2/>)"}


def _content(name: str, *, paged: bool) -> dict[str, Any]:
    return {"application/json": {"schema": _envelope(name, paged=paged)},
            "application/xml": {"schema": _xml_envelope(name, paged=paged)}}


def _responses(name: str, *, paged: bool) -> dict[str, Any]:
    def error(text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": text, "content": _content("errors", paged=False)}
        if headers:
            answer["headers"] = headers
        return answer

    return {
        "200": {"description": "the items, in the collection's envelope (one item too)",
                "content": _content(name, paged=paged)},
        "400": error("invalid input; field names the parameter"),
        "401": error("Digest credentials missing or wrong, or the address not allowed",
                     {"WWW-Authenticate": {"schema": {"type": "string"},
                                           "description": "two challenges: SHA-256 then MD5"}}),
        "403": error("refused: no write permission, or the reason given"),
        "404": error("no such resource, id, or version"),
        "405": error("the method is not allowed", {"Allow": {"schema": {"type": "string"}}}),
        "500": error("unexpected; logged"),
        "503": error("busy (a write lost a race more often than retried): retry"),
    }


# ---------------------------------------------------------------- the request side

ID = {"type": "string", "pattern": "^[1-9][0-9]{0,11}$", "description": "a positive integer"}
PAGE = [("page", {"type": "integer", "minimum": 0, "maximum": 10**6}, "0 is the first page"),
        ("pagesize", {"type": "integer", "minimum": 1, "maximum": rules.MAX_PAGESIZE},
         f"default {rules.DEFAULT_PAGESIZE}")]
DAYS = [("date_from", {"type": "string", "format": "date"}, "first UTC day (default: 6 days before date_to)"),
        ("date_to", {"type": "string", "format": "date"},
         f"last UTC day (default: today); at most {rules.STATS_MAX_DAYS} days in all")]
SEARCH = {"areacode": {"type": "string", "pattern": "^[2-9][0-9]{2}$", "description": "NPA (or a toll-free prefix)"},
          "state": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
          "tollfree": {"type": "string", "enum": ["1", "0", "true", "false"]}}
# What XML 1.0 cannot carry (render.NOT_XML) is refused 400 in every value: it would come back in XML answers.
NOT_XML = "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uFFFE\\uFFFF"
XML_TEXT = f"^[^{NOT_XML}]*$"
# Values are stripped of white space (of which XML carries only tab, LF, CR and spaces) before they are checked.
SPACE = "[^\\S\\x0B\\x0C\\x1C-\\x1F]"
VISIBLE = f"[^\\s{NOT_XML}]"
INPUT = {"type": "string", "pattern": XML_TEXT}
CUSTOM_INPUT = {"type": "string", "nullable": True, "pattern": XML_TEXT,
                "description": "only custom_N of a defined slot (N without leading zeros); empty clears; "
                               "any other name is 400"}


def _query(name: str, schema: dict[str, Any], description: str = "", *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            **({"description": description} if description else {})}


def _fields(properties: dict[str, Any], *, required: tuple[str, ...] = (), custom: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": CUSTOM_INPUT if custom else False}
    if required:
        schema["required"] = list(required)
    return schema


NAME = {"type": "string", "minLength": 1, "maxLength": rules.NAME_MAX, "description": "not blank",
        "pattern": f"^{SPACE}*{VISIBLE}[^{NOT_XML}]*$"}
# The account number of the other APIs (unique in the tenant: a taken one is 400); left empty on create, one is
# allocated.
CUSTNR = {"type": "string", "pattern": f"^{SPACE}*[A-Za-z0-9][A-Za-z0-9_-]{{0,31}}{SPACE}*$",
          "description": "1-32 letters, digits, '-' or '_', unique in the tenant"}
# Punctuation ( ) . - and spaces are dropped first; ten digits or fewer are a NANP number.
FORWARD_TO = {"type": "string", "pattern": "^(\\+[1-9][0-9]{7,14}|[0-9]{7,10}|[1-9][0-9]{10,14})?$",
              "description": "where its calls ring, E.164 (+14155550100); empty clears"}
EMAIL = {"type": "string", "maxLength": 254, "description": "an e-mail address (an @ neither first nor last); "
                                                            "empty clears",
         "pattern": f"^{SPACE}*$|^{SPACE}*[^@\\s{NOT_XML}][^{NOT_XML}]*@[^{NOT_XML}]*[^@\\s{NOT_XML}]{SPACE}*$"}
CORPORATE_ID = {**INPUT, "maxLength": 64}
FLAG = {"type": "string", "enum": ["1", "0"]}
BODIES: dict[str, dict[str, Any]] = {
    "customer_create": _fields({"name": NAME, "custnr": {**CUSTNR, "pattern": f"^{SPACE}*$|{CUSTNR['pattern']}"},
                                "corporateid": CORPORATE_ID, "email": EMAIL},
                               required=("name",), custom=True),
    "customer_update": _fields({"name": NAME, "custnr": CUSTNR, "corporateid": CORPORATE_ID, "email": EMAIL,
                                "customer_id": ID}, custom=True),
    "source_create": _fields({"name": NAME, "number": {**INPUT, "description": "10 or 11 digits, or +1…"},
                              "forward_to": FORWARD_TO, **SEARCH,
                              "active": {"type": "string", "enum": ["1"]}, "customer_id": ID},
                             required=("name",), custom=True),
    "source_update": _fields({"name": NAME, "forward_to": FORWARD_TO, "customer_id": ID, "source_id": ID}, custom=True),
    "pool_add": _fields({"number": INPUT, "quantity": {"type": "string", "pattern": "^[0-9]{1,2}$",
                                                      "description": f"1-{rules.MAX_POOL}"},
                         **SEARCH, "customer_id": ID, "source_id": ID}),
    "greeting_create": _fields({"name": NAME, "active": FLAG, "customer_id": ID,
                                "audio": {"type": "string", "format": "byte",
                                          "description": f"WAV or MP3, base64; at most {rules.MAX_GREETING_BYTES} bytes"}},
                               required=("name", "audio")),
    "greeting_update": _fields({"name": NAME, "active": FLAG, "customer_id": ID, "vm_greeting_id": ID}),
}
FORM_TYPES = ("application/x-www-form-urlencoded", "application/x-www-form-urlencode")


def _body(kind: str) -> dict[str, Any]:
    """Form (also the document's misspelt type) and JSON (an object of
    scalars: numbers and booleans are read as text); greetings also multipart."""
    schema = {"$ref": f"#/components/schemas/{kind}"}
    content: dict[str, Any] = {media: {"schema": schema} for media in (*FORM_TYPES, "application/json")}
    if kind == "greeting_create":
        multipart = dict(BODIES[kind]["properties"])
        multipart["audio"] = {"type": "string", "format": "binary", "description": "the audio file part"}
        content["multipart/form-data"] = {"schema": {**BODIES[kind], "properties": multipart}}
    return {"required": kind.endswith("_create") or kind == "pool_add", "content": content}


OVERRIDE = [_query("_method", {"type": "string", "enum": ["PUT", "DELETE"]}, "the method this POST stands for"),
            {"name": "X-HTTP-Method-Override", "in": "header", "required": False,
             "schema": {"type": "string", "enum": ["PUT", "DELETE"]}, "description": "as _method"}]


def _operation(summary: str, *, query: Sequence[dict[str, Any]] = (), body: str | None = None,
               answers: str | None = None) -> dict[str, Any]:
    """``answers``: the items of its answer, when not the path's (a pool's POST answers its source)."""
    return {"summary": summary, "parameters": list(query), **({"body": body} if body else {}),
            **({"answers": answers} if answers else {})}


Op = dict[str, Any]
PATHS: list[tuple[str, str, bool, dict[str, Op]]] = []


def _customer_scope(template: str) -> list[dict[str, Any]]:
    return [] if "{customer_id}" in template else [_query("customer_id", ID, "the customer")]


def _add(template: str, name: str, paged: bool, **methods: Op) -> None:
    PATHS.append((template, name, paged, methods))


def _build() -> None:
    paging = [_query(n, s, d) for n, s, d in PAGE]
    days = [_query(n, s, d) for n, s, d in DAYS]
    cid = _query("customer_id", ID, "the customer")
    _add("/miscellaneous/ping", "pings", False, get=_operation("Check credentials and the source address."))
    _add("/customers", "customers", True,
         get=_operation("All visible customers (or one with customer_id).", query=[cid, *paging]),
         post=_operation("Create a customer: name (required), custnr, corporateid, email, custom_N. "
                         "A customer_id is 400 (POST never updates).", query=OVERRIDE, body="customer_create"),
         put=_operation("Update the customer named by customer_id.",
                        query=[{**cid, "required": True}], body="customer_update"),
         delete=_operation("Drop the customer named by customer_id.", query=[{**cid, "required": True}]))
    _add("/customers/{customer_id}", "customers", False,
         get=_operation("One customer, in the list envelope."),
         put=_operation("Update: name, custnr, corporateid, email, custom_N. Never creates.", body="customer_update"),
         delete=_operation("Drop (Ex-Customer); 403 while it has active sources."))
    _add("/custom_fields", "custom_fields", True, get=_operation(
        "Custom-field definitions (read-only).",
        query=[_query("entity", {"type": "string", "enum": list(rules.ENTITIES)}), *paging]))
    stats = [cid, _query("source_id", ID), *days, *paging]
    _add("/statistics/cdrs", "cdrs", True, get=_operation(
        "Calls to tracking numbers, ordered by start; a pool number's calls carry the session.", query=stats))
    _add("/statistics/sources", "statistics_sources", True, get=_operation("Per source and day figures.", query=stats))
    for base in ("/sources", "/customers/sources", "/customers/{customer_id}/sources"):
        scope = _customer_scope(base)
        sid = _query("source_id", ID, "the source")
        needed = {**sid, "required": True}
        _add(base, "sources", True,
             get=_operation("Sources (one with source_id).", query=[*scope, sid, *paging]),
             post=_operation("Create a source: name, number or areacode/state/tollfree, forward_to, custom_N.",
                             query=[*scope, *OVERRIDE], body="source_create"),
             put=_operation("Update the source named by source_id.", query=[*scope, needed], body="source_update"),
             delete=_operation("Deactivate the source named by source_id and release its number.",
                               query=[*scope, needed]))
        _add(base + "/{source_id}", "sources", False,
             get=_operation("One source."),
             put=_operation("Update: name, forward_to, custom_N.", body="source_update"),
             delete=_operation("Deactivate and release its number."))
        session = _query("session", {"type": "string", "pattern": rules.SESSION_PATTERN.pattern},
                         "the web visitor's session", required=True)
        for template, ident in ((base + "/{source_id}/number", []), (base + "/number", [needed])):
            if template.startswith("/customers/{customer_id}") and ident:
                continue  # /customers/{id}/sources/number is not a route
            _add(template, "numbers", False,
                 get=_operation("Session tracking: a pool number for ?session=S (the same while the session "
                                "lives; the source's own number without a pool).", query=[*scope, *ident, session]),
                 post=_operation("Add number (or quantity found by areacode/state/tollfree) to the source's pool.",
                                 query=[*scope, *ident], body="pool_add", answers="sources"))
    for base in ("/customers/voicemail_greetings", "/customers/{customer_id}/voicemail_greetings"):
        scope = _customer_scope(base)
        gid = _query("vm_greeting_id", ID, "the greeting")
        needed = {**gid, "required": True}
        _add(base, "voicemail_greetings", True,
             get=_operation("Greetings (one with vm_greeting_id).", query=[*scope, gid, *paging]),
             post=_operation("Upload: name and audio (WAV or MP3) as base64 field `audio` or multipart file "
                             "`audio`.", query=[*scope, *OVERRIDE], body="greeting_create"),
             put=_operation("Update name, active of vm_greeting_id.", query=[*scope, needed], body="greeting_update"),
             delete=_operation("Delete vm_greeting_id and its audio.", query=[*scope, needed]))
        _add(base + "/{vm_greeting_id}", "voicemail_greetings", False,
             get=_operation("One greeting with a presigned URL of its audio."),
             put=_operation("Update name, active.", body="greeting_update"),
             delete=_operation("Delete it and its audio."))


_build()

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


def _with_override(methods: dict[str, Op]) -> dict[str, Op]:
    """The document's tip: a POST with ``_method=PUT|DELETE`` (or the
    X-HTTP-Method-Override header) stands for that method, so POST also takes
    their parameters; on a resource without POST of its own, only that."""
    standing_in = [p for m in ("put", "delete") if m in methods for p in methods[m]["parameters"]]
    if not standing_in and not any(m in methods for m in ("put", "delete")):
        return methods
    post = methods.get("post") or _operation(
        "POST with _method=PUT|DELETE (or X-HTTP-Method-Override) stands for that method; a plain POST is 405.",
        body=methods["put"].get("body") if "put" in methods else None)
    names = {p["name"] for p in post["parameters"]}
    for param in [*standing_in, *OVERRIDE]:
        if param["name"] not in names:
            names.add(param["name"])
            post = {**post, "parameters": [*post["parameters"], {**param, "required": False}]}
    return {**methods, "post": post}


@rate_limits.documented
def spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for template, name, paged, methods in PATHS:
        methods = _with_override(methods)
        entry: dict[str, Any] = {}
        for method, op in methods.items():
            entry[method] = {"summary": op["summary"],
                             "responses": _responses(op.get("answers", name), paged=paged and method == "get")}
            if op["parameters"]:
                entry[method]["parameters"] = op["parameters"]
            if op.get("body"):
                entry[method]["requestBody"] = _body(op["body"])
        for method in ("get", "post", "put", "delete"):
            if method not in entry:
                entry[method] = {"summary": "Not offered by this resource.",
                                 "responses": {k: v for k, v in _responses(name, paged=False).items()
                                               if k in ("401", "404", "405")}}
        ids = re.findall(r"\{(\w+)\}", template)
        if ids:
            entry["parameters"] = [{"name": i, "in": "path", "required": True, "schema": ID} for i in ids]
        paths[template] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dialtone call-tracking API (seed 003)", "version": "v1", "description": DESCRIPTION},
        "servers": [{"url": "/tracking/v1"}],
        "security": [{"digest": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"digest": {"type": "http", "scheme": "digest"}},
            "schemas": {**{name: schema for name, (_, schema) in ITEMS.items()}, **BODIES},
        },
    }
