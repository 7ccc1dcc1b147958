"""The call-tracking API's dialect (seed 003), mounted at /tracking/{version}.

What a client of the document sends, and how it is understood:
- ``/customers.xml/1``, ``/customers/1.json``, ``/customers/1/sources.xml/2``:
  a ``.json`` or ``.xml`` after a resource name chooses the format; else
  ``Accept: application/xml`` (or ``text/xml``); else JSON.
- Every resource path may carry its parameters after a ``&`` instead of a
  ``?`` (the document's ``GET /statistics/cdrs&page=2``): whatever follows
  the first ``&`` of a path without ``?`` is its query string; with both,
  the two are merged.
- POST and PUT take ``application/x-www-form-urlencoded`` (also the
  document's ``application/x-www-form-urlencode``), ``application/json`` or,
  for greetings, ``multipart/form-data``; GET and DELETE take the query
  string. A body that is not UTF-8 is 400.
- ``_method=PUT|DELETE`` in the query string of a POST, or the header
  ``X-HTTP-Method-Override``, changes the method. Authorisation is decided
  on the effective method; a method the resource lacks is 405 with Allow.
- ``Host`` is required (HTTP/1.0 clients must send it): 400 without.
- HTTP Digest (auth/digest.py) and the user's IP allow-list.

API Gateway has no greedy path parameter that chalice can serve locally,
so the blueprint registers one catch-all route per depth (1 to 6 segments
after the version) and the table below routes inside the function.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.tracking import errors, render
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import DialtoneError, NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.auth.digest import PendingClaim
    from chalicelib.services.common import audit
else:
    audit = lazy("chalicelib.services.common.audit")

bp = Blueprint(__name__)
_log = logging.getLogger(__name__)

VERSIONS = ("v1",)
METHODS = ("GET", "POST", "PUT", "DELETE")
OVERRIDABLE = ("PUT", "DELETE", "GET", "POST")
FORM_TYPES = ("application/x-www-form-urlencoded", "application/x-www-form-urlencode")
MAX_DEPTH = 6
MAX_FIELDS = 200
_SUFFIX = re.compile(r"^(?P<name>[A-Za-z0-9_]+)\.(?P<fmt>json|xml)$")


@dataclass
class Call:
    """One request, understood: what every resource handler receives."""

    request: Request
    principal: Principal
    method: str
    fmt: str
    path: dict[str, str]
    params: dict[str, str]
    files: dict[str, http.Part] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else None

    def given(self, *names: str) -> dict[str, str]:
        return {n: self.params[n] for n in names if n in self.params}

    def scoped_id(self, name: str) -> tuple[int | None, int | None]:
        """The customer the path or parameters scope the request to (if any)
        and the id parameter ``name`` (if given), both checked."""
        customer, ident = self.param("customer_id"), self.param(name)
        return (rules.entity_id(customer, "customer_id") if customer else None,
                rules.entity_id(ident, name) if ident else None)

    def scoped_required_id(self, name: str) -> tuple[int | None, int]:
        """As ``scoped_id``, with ``name`` required."""
        customer_id, ident = self.scoped_id(name)
        if ident is None:
            raise ValidationError(f"{name} is required", field=name)
        return customer_id, ident


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]
    handlers: dict[str, Handler]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        captured: dict[str, str] = {}
        for part, want in zip(segments, self.pattern):
            if want.startswith("{"):
                if not part.isdigit() or len(part) > 12:
                    return None
                captured[want[1:-1]] = part
            elif part != want:
                return None
        return captured


ROUTES: list[Route] = []


def resource(pattern: str, **handlers: Handler) -> None:
    """Register a resource path (``customers/{customer_id}/sources``) and its
    methods (``GET=list_sources``); literals before ids when both could match."""
    ROUTES.append(Route(tuple(p for p in pattern.split("/") if p), {m.upper(): h for m, h in handlers.items()}))


# ---------------------------------------------------------------- parsing

def split_path(segments: list[str]) -> tuple[list[str], str | None, dict[str, str]]:
    """(resource segments without suffix, the suffix's format, the parameters
    written after a '&' in the path)."""
    joined = "/".join(segments)
    tail: dict[str, str] = {}
    if "&" in joined:
        joined, _, rest = joined.partition("&")
        tail = _pairs(rest, "the path's parameters")
    parts = [p for p in joined.split("/") if p]
    fmt = None
    cleaned = []
    for part in parts:
        match = _SUFFIX.match(part)
        if match:
            if fmt is not None and fmt != match.group("fmt"):
                raise ValidationError("the path names two formats", field="format")
            fmt = match.group("fmt")
            part = match.group("name")
        cleaned.append(part)
    return cleaned, fmt, tail


def _pairs(text: str, what: str) -> dict[str, str]:
    # A name may repeat only its value; %-escapes must be UTF-8.
    return http.form(text, repeated=http.SAME, max_fields=MAX_FIELDS, strict_escapes=True, what=what)


def accepted_format(request: Request) -> str:
    accept = (request.headers.get("accept") or "").lower()
    best, best_q = render.JSON, -1.0
    for part in accept.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        name = name.strip()
        fmt = {"application/xml": render.XML, "text/xml": render.XML, "application/json": render.JSON}.get(name)
        if fmt and q > 0 and q > best_q:
            best, best_q = fmt, q
    return best


def _query(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    params = request.query_params
    if params:
        for name in params:
            values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
            if len(set(values)) > 1:
                raise ValidationError(f"{name} is given twice", field=name)
            found[name] = values[0]
    return found


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    """Every (name, value) of the query string as the gateway decoded it,
    repeats included: what the Digest ``uri`` must name."""
    params = request.query_params
    if not params:
        return []
    return [(name, value) for name in params
            for value in (params.getlist(name) if hasattr(params, "getlist") else [params[name]])]


def body_fields(request: Request) -> tuple[dict[str, str], dict[str, http.Part]]:
    """The fields of a form, JSON or multipart body (values as text), and the
    files of a multipart one, through the one body parser (api/http/body.py);
    this dialect adds the document's misspelled form type and flat values."""
    raw = http.raw_bytes(request)
    if not raw.strip():
        return {}, {}
    kind = http.media_type(request)
    if kind == "multipart/form-data":
        fields: dict[str, str] = {}
        files: dict[str, http.Part] = {}
        for name, part in http.multipart(request).items():
            if part.filename is not None:
                files[name] = part
            else:
                fields[name] = _utf8(bytes(part.content), name)
        return fields, files
    text = _utf8(raw, "body")
    if kind in FORM_TYPES or not kind:
        return _pairs(text, "the body's fields"), {}
    if kind in ("application/json", "text/json"):
        # A JSON null is what an empty form value is: the field unset.
        found: dict[str, str] = {}
        for name, item in http.json_object(raw).items():
            if isinstance(item, (dict, list)):
                raise ValidationError(f"{name} must be a single value", field=name)
            found[name] = "" if item is None else ("1" if item is True else "0" if item is False else str(item))
        return found, {}
    raise ValidationError(f"Content-Type {kind} is not accepted: send application/x-www-form-urlencoded "
                          "or application/json", field="Content-Type")


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{what} is not valid UTF-8", field=what) from None


def refuse_control_characters(params: Mapping[str, str]) -> None:
    """400 naming the first field whose value XML 1.0 cannot carry (a control
    character other than tab, LF, CR; a lone surrogate from a JSON escape;
    U+FFFE/U+FFFF): stored, it would come back in every XML answer."""
    for name, value in params.items():
        if render.NOT_XML.search(value):
            raise ValidationError(f"{name} contains a control character (or one XML cannot carry)", field=name)


def effective_method(request: Request, query: Mapping[str, str]) -> str:
    wire = request.method.upper()
    override = query.get("_method") or request.headers.get("x-http-method-override")
    if not override:
        return wire
    wanted = override.strip().upper()
    if wire != "POST":
        raise ValidationError("_method and X-HTTP-Method-Override are honoured on POST only", field="_method")
    return wanted


# ---------------------------------------------------------------- serving

def serve(segments: list[str]) -> Response:
    request = bp.current_request
    started = time.perf_counter()
    token = audit.begin()
    principal: Principal | None = None
    pending: PendingClaim | None = None
    fmt = render.JSON
    response = errors.internal_error(fmt)
    try:
        fmt = accepted_format(request)
        version = request.uri_params.get("version") if request.uri_params else None
        names, suffix, tail = split_path(segments)
        fmt = suffix or fmt
        if not request.headers.get("host"):
            raise ValidationError("the Host header is required (HTTP/1.1)", field="Host")
        if version not in VERSIONS:
            raise NotFoundError(f"unknown API version '{version}'; versions: {', '.join(VERSIONS)}",
                                field="version")
        if names == ["openapi"] and request.method == "GET":
            from chalicelib.api.tracking.openapi import spec

            response = http.json_response(spec())  # public: it holds no tenant data
            return response
        query = {**_query(request)}
        for name, value in tail.items():
            if name in query and query[name] != value:
                raise ValidationError(f"{name} is given twice", field=name)
            query[name] = value
        from chalicelib.auth import digest

        # A read's replay claim runs beside the read, and is waited for
        # before anything is answered (digest.authenticate, PendingClaim).
        principal, pending = digest.authenticate(
            header=request.headers.get("authorization"), method=request.method,
            path=request.context.get("path") or "", query=_query_pairs(request),
            stage=request.context.get("stage"), source_ip=http.source_ip(request), read=_reads_only(request, query))
        try:
            response = _answer(request, principal, query=query, names=names, fmt=fmt)
        finally:
            if pending is not None:
                try:
                    pending.confirm()
                except digest.DigestChallengeError:
                    principal = None  # a replay: nobody's request, nothing of the read answered
                    raise
    except DialtoneError as error:
        response = errors.error_response(error, fmt)
    except Exception as error:
        response = http.unexpected(request, error, envelope=lambda busy: errors.error_response(busy, fmt),
                                   internal=lambda: errors.internal_error(fmt))
    finally:
        if principal is not None:
            http.write_audit(request, principal, response.status_code, "tracking", started)
        audit.end(token)
    return response


def _reads_only(request: Request, query: Mapping[str, str]) -> bool:
    """A plain GET: no method override (honoured on POST only) turns it into a write."""
    return (request.method == "GET" and not query.get("_method")
            and not request.headers.get("x-http-method-override"))


def _answer(request: Request, principal: Principal, *, query: dict[str, str], names: list[str],
            fmt: str) -> Response:
    """The authenticated request routed to its handler and answered."""
    method = effective_method(request, query)
    route, captured = _route(names)
    handler = route.handlers.get(method)
    if handler is None:
        allow = [m for m in METHODS if m in route.handlers]
        raise errors.MethodNotAllowedError(f"{method} is not allowed on /{'/'.join(names)}; allowed: "
                                           f"{', '.join(allow)}", allow=allow)
    fields: dict[str, str]
    files: dict[str, http.Part]
    if method in ("GET", "DELETE") and request.method == method:
        fields, files = {}, {}
    else:
        fields, files = body_fields(request)
    params = dict(query)
    params.pop("_method", None)
    for name, value in fields.items():
        if name in params and params[name] != value:
            raise ValidationError(f"{name} is given twice", field=name)
        params[name] = value
    for name, value in captured.items():
        if params.get(name) not in (None, "", value):
            raise ValidationError(f"{name} in the path and the parameters differ", field=name)
        params[name] = value
    refuse_control_characters(params)
    if method != "GET":
        principal.require_write()
    response = handler(Call(request=request, principal=principal, method=method, fmt=fmt, path=captured,
                            params=params, files=files))
    return http.gzip_if_accepted(request, response)


def _route(names: list[str]) -> tuple[Route, dict[str, str]]:
    for route in ROUTES:
        captured = route.match(names)
        if captured is not None:
            return route, captured
    raise NotFoundError(f"no resource /{'/'.join(names)}", field="resource")


def ok(call: Call, plural: str, singular: str, items: list[dict[str, Any]], *,
       paging: Mapping[str, int] | None = None) -> Response:
    return render.envelope(call.fmt, plural, singular, items, paging=paging)


# One catch-all route per depth; the names are the same at every level, as
# API Gateway requires of sibling path variables.
_ALL = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_CONTENT = ["*/*"]


def _register(depth: int) -> None:
    names = [f"p{n}" for n in range(1, depth + 1)]
    path = "/{version}" + "".join(f"/{{{n}}}" for n in names)

    def view(**params: str) -> Response:
        return serve([params[n] for n in names])

    view.__name__ = f"tracking_depth_{depth}"
    bp.route(path, methods=_ALL, content_types=_CONTENT)(view)


def _version_only(version: str) -> Response:
    return serve([])


bp.route("/{version}", methods=_ALL, content_types=_CONTENT)(_version_only)
for _depth in range(1, MAX_DEPTH + 1):
    _register(_depth)
