"""The billing platform API's dialect (seed 000), shared by its section
modules: a Bearer API key, integer ids, pages, ``?action=`` and the Surface
that serves every route (authentication, error mapping, the audit record)."""
from __future__ import annotations

from typing import Callable

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import errors
from chalicelib.auth import api_key
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.store.dynamo.entities import Page

bp = Blueprint(__name__)

# One answer holds at most this many resources (documented in docs/billing-api.md):
# with expansion a page of 1,000 customers is one Query for them and one per child type.
MAX_PAGE = 1000
DEFAULT_PAGE = 1000
MAX_OFFSET = 100_000
MAX_ID = 10**12 - 1
Handler = Callable[[Principal, Request], Response]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


SURFACE = http.Surface(
    "backend",
    authenticate=lambda request: api_key.authenticate(bearer(request), http.source_ip(request)),
    error_response=errors.error_response,
    internal_error=errors.internal_error,
)


def serve(handler: Handler) -> Response:
    return SURFACE.serve(bp.current_request, handler)


def page(params: dict[str, str]) -> Page:
    return Page(
        id_after=http.int_param(params, "idAfter", default=0, minimum=0, maximum=MAX_ID),
        limit=http.int_param(params, "limit", default=DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE),
        offset=http.int_param(params, _offset_name(params), default=0, minimum=0, maximum=MAX_OFFSET),
        updated_since=http.iso_param(params, "updatedSince"),
    )


def _offset_name(params: dict[str, str]) -> str:
    """The seed's own text spells it "offest" ("the limit and offest
    parameters"): clients written from it send that; both mean the same."""
    if "offset" in params and "offest" in params and params["offset"] != params["offest"]:
        raise ValidationError("offset and offest (the same parameter) disagree", field="offset")
    return "offest" if "offset" not in params and "offest" in params else "offset"


def entity_id(text: str) -> int:
    # All ids are integers; anything else cannot name a resource.
    # isascii: "²" is a digit to str.isdigit but not to int().
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFoundError(f"no resource with id '{text}'")
    return int(text)


def action_name(request: Request) -> str | None:
    return http.query(request).get("action")


def see_other(location: str) -> Response:
    """A file too large for a Lambda answer: S3 serves it (presigned, short-lived)."""
    return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})
