"""The wholesale carrier API, mounted at /carrier (seed 002).

Section modules register their endpoints on ``dialect.bp`` with
``@endpoint(name)``; importing them here is what mounts them."""
from chalice import Response

from chalicelib.api.carrier import (  # noqa: F401  (register endpoints)
    billing, orders, origination, porting, stats, termination,
)
from chalicelib.api.carrier.dialect import bp


@bp.route("/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    # Public: it describes the surface and holds no tenant data. Loaded on request, not on a cold start.
    from chalicelib.api.carrier.openapi import served

    return served()


__all__ = ["bp"]
