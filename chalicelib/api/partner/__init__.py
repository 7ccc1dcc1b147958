"""The partner billing API, mounted at /partner/api/v1 (seed 001).

Section modules register their routes on ``dialect.bp``; importing them here
is what mounts them."""
from chalice import Response

from chalicelib.api.partner import balances, signup  # noqa: F401  (register routes)
from chalicelib.api.partner.dialect import bp


@bp.route("/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    # Public: it describes the surface and holds no tenant data. Loaded on request, not on a cold start.
    from chalicelib.api.partner.openapi import served

    return served()


__all__ = ["bp"]
