"""Rendering answers: JSON with exact decimals, byte bodies, Accept-driven
content negotiation and gzip where API Gateway does not compress."""
from __future__ import annotations

import base64
from typing import Any, Mapping

import simplejson
from chalice import Response
from chalice.app import Request

from chalicelib import settings


def dumps(value: Any) -> str:
    # simplejson writes Decimal as its exact digits; the stdlib would go through float.
    return simplejson.dumps(value, use_decimal=True, separators=(",", ":"), ensure_ascii=False)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body=dumps(body), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


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
    # Imported here: only the local runtime compresses (on AWS the gateway does),
    # so a Lambda cold start never needs the module.
    import gzip

    headers = {**response.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return BinaryResponse(gzip.compress(bytes(raw), compresslevel=6, mtime=0), headers=headers,
                          status_code=response.status_code)
