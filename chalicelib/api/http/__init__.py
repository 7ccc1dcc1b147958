"""HTTP helpers shared by every surface: JSON with exact decimals, query
parameters and flags, the caller's source address, the audit record."""
from __future__ import annotations

import base64
import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import simplejson
from chalice import Response
from chalice.app import Request

from chalicelib import clock, settings
from chalicelib.domain.errors import DialtoneError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit

_log = logging.getLogger(__name__)
TRUE_FLAGS = ("", "1", "true", "yes", "on")
FALSE_FLAGS = ("0", "false", "no", "off")


def dumps(value: Any) -> str:
    # simplejson writes Decimal as its exact digits; the stdlib would go through float.
    return simplejson.dumps(value, use_decimal=True, separators=(",", ":"), ensure_ascii=False)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body=dumps(body), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object, numbers as Decimal/int, never float."""
    raw = request.raw_body
    if not raw or not raw.strip():
        if required:
            raise ValidationError("a JSON object body is required", field="body")
        return {}
    try:
        value = simplejson.loads(raw, use_decimal=True)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"malformed JSON: {error}", field="body") from None
    if not isinstance(value, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    return value


def query(request: Request) -> dict[str, str]:
    """First value of each query parameter (API Gateway gives '' for a bare flag)."""
    params = request.query_params or {}
    return {k: v for k, v in params.items()}


def flag(params: Mapping[str, str], name: str) -> bool:
    """A flag given bare (?expandNumbers), or =true/=1; absent or =false is off."""
    if name not in params:
        return False
    value = (params[name] or "").strip().lower()
    if value in TRUE_FLAGS:
        return True
    if value in FALSE_FLAGS:
        return False
    raise ValidationError(f"{name} must be true or false", field=name)


def optional_bool(params: Mapping[str, str], name: str) -> bool | None:
    return flag(params, name) if name in params else None


def int_param(params: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", field=name) from None
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


def iso_param(params: Mapping[str, str], name: str) -> str | None:
    """An ISO 8601 time, normalised to the stored form (UTC, microseconds, Z)."""
    text = params.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise ValidationError(f"{name} must be an ISO 8601 time", field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def source_ip(request: Request) -> str | None:
    """The address API Gateway saw the request come from. Never a client-set
    forwarding header, which anyone can write."""
    return (request.context.get("identity") or {}).get("sourceIp")


def request_id(request: Request) -> str:
    return str(request.context.get("requestId") or uuid.uuid4())


def write_audit(request: Request, principal: Principal, status: int, surface: str, started: float) -> None:
    try:
        audit.record({
            "tenantId": principal.tenant_id,
            "at": clock.now_iso(),
            "requestId": request_id(request),
            "userId": principal.user_id,
            "username": principal.username,
            "surface": surface,
            "method": request.method,
            "path": request.context.get("path") or request.context.get("resourcePath"),
            "status": status,
            "sourceIp": source_ip(request),
            "touched": audit.touched(),
            "ms": int((time.perf_counter() - started) * 1000),
        })
    except Exception:  # the answer is already decided; a lost audit line is logged loudly
        _log.exception("audit record could not be written")


class Surface:
    """What differs between surfaces when serving a request: how the caller
    authenticates and how errors look. ``serve`` does the rest identically:
    audit context, error mapping, one audit record per authenticated request."""

    def __init__(self, name: str, *, authenticate: Callable[[Request], Principal],
                 error_response: Callable[[DialtoneError], Response], internal_error: Callable[[], Response]) -> None:
        self.name = name
        self.authenticate = authenticate
        self.error_response = error_response
        self.internal_error = internal_error

    def serve(self, request: Request, handler: Callable[[Principal, Request], Response]) -> Response:
        started = time.perf_counter()
        token = audit.begin()
        principal: Principal | None = None
        response = self.internal_error()
        try:
            principal = self.authenticate(request)
            response = handler(principal, request)
            response = gzip_if_accepted(request, response)
        except DialtoneError as error:
            response = self.error_response(error)
        except Exception:
            _log.exception("unhandled error in %s %s", request.method, request.context.get("path"))
        finally:
            # Requests that never authenticated have no tenant to log under.
            if principal is not None:
                write_audit(request, principal, response.status_code, self.name, started)
            audit.end(token)
        return response


class BinaryResponse(Response):
    """A response whose body is bytes (a file, a gzip body): always handed to
    the gateway base64-encoded, whatever its Content-Type. Chalice encodes
    only types listed in ``binary_types``, which are chosen for requests."""

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        body = self.body
        self.body = ""
        try:
            answer = super().to_dict(None)
        finally:
            self.body = body
        raw = body if isinstance(body, (bytes, bytearray, memoryview)) else str(body).encode()
        answer["body"] = base64.b64encode(raw).decode("ascii")
        answer["isBase64Encoded"] = True
        return answer


def wants_file(request: Request) -> bool:
    """No Accept, or one naming application/json: the resource's JSON. Anything
    else (application/octet-stream, */*, application/pdf ...): its file."""
    accept = (request.headers.get("accept") or "").strip()
    if not accept:
        return False
    for part in accept.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "application/json" and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return False
    return True


def accepts_gzip(request: Request) -> bool:
    header = (request.headers.get("accept-encoding") or "").lower()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def gzip_if_accepted(request: Request, response: Response) -> Response:
    """Compress as API Gateway does with minimum_compression_size: when the
    client accepts gzip and the body reaches the minimum. Only where the
    gateway does not (GZIP_RESPONSES=1 locally), so nothing is compressed twice."""
    if not settings.gzip_responses() or not accepts_gzip(request):
        return response
    if any(k.lower() == "content-encoding" for k in response.headers):
        return response
    body = response.body
    raw = body.encode() if isinstance(body, str) else body
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < settings.gzip_minimum_bytes():
        return response
    import gzip

    headers = {**response.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return BinaryResponse(gzip.compress(bytes(raw), compresslevel=6, mtime=0), headers=headers,
                          status_code=response.status_code)


def multipart_parts(request: Request) -> dict[str, tuple[dict[str, str], memoryview]]:
    """The parts of a multipart/form-data body by field name: (headers, bytes).
    The bytes are views into the request body, not copies."""
    content_type = request.headers.get("content-type") or ""
    boundary = ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        raise ValidationError("multipart/form-data without a boundary", field="body")
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    body = memoryview(raw)
    delimiter = b"--" + boundary.encode()
    parts: dict[str, tuple[dict[str, str], memoryview]] = {}
    position = raw.find(delimiter)
    if position < 0:
        raise ValidationError("malformed multipart body: no boundary found", field="body")
    while True:
        start = position + len(delimiter)
        if raw[start:start + 2] == b"--":
            return parts
        if raw[start:start + 2] != b"\r\n":
            raise ValidationError("malformed multipart body", field="body")
        head_end = raw.find(b"\r\n\r\n", start + 2)
        following = raw.find(b"\r\n" + delimiter, head_end + 4 if head_end >= 0 else start)
        if head_end < 0 or following < 0:
            raise ValidationError("malformed multipart body: a part is not terminated", field="body")
        headers = {}
        for line in bytes(body[start + 2:head_end]).decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        name = _disposition_name(headers.get("content-disposition", ""))
        if name:
            parts[name] = (headers, body[head_end + 4:following])
        position = following + 2


def _disposition_name(disposition: str) -> str | None:
    for param in disposition.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "name":
            return value.strip().strip('"')
    return None
