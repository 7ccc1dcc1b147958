"""HTTP helpers shared by every surface: JSON with exact decimals, query
parameters and flags, the caller's source address, the audit record."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import simplejson
from chalice import Response
from chalice.app import Request

from chalicelib.domain.errors import DialtoneError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services import audit

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
            "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
