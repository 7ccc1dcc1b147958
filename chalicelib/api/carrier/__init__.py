"""The wholesale carrier API, mounted at /carrier (seed 002).

Route modules register on ``core.bp`` with ``@endpoint(name)``; importing
them here is what puts their endpoints on the blueprint.
"""
from chalice import Response

from chalicelib.api.carrier import orders, origination, porting, termination  # noqa: F401  (register endpoints)
from chalicelib.api.carrier import stats  # noqa: F401  (registers its endpoints)
from chalicelib.api.carrier.dialect import bp
from chalicelib.api.carrier import billing  # noqa: F401  (registers the Billing endpoints)


@bp.route("/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    # Public: it describes the surface and holds no tenant data. Loaded on request, not on a cold start.
    from chalicelib.api.carrier.openapi import served

    return served()


__all__ = ["bp"]
