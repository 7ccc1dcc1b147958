"""Request bodies: a JSON object with exact numbers, multipart/form-data parts."""
from __future__ import annotations

from typing import Any

import simplejson
from chalice.app import Request

from chalicelib.domain.errors import ValidationError


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
