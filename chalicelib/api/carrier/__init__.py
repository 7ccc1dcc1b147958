"""The wholesale carrier API, mounted at /carrier (seed 002).

Route modules register on ``core.bp`` with ``@endpoint(name)``; importing
them here is what puts their endpoints on the blueprint.
"""
from chalicelib.api.carrier import orders, origination, porting, termination  # noqa: F401  (register endpoints)
from chalicelib.api.carrier import stats  # noqa: F401  (registers its endpoints)
from chalicelib.api.carrier.dialect import bp
from chalicelib.api.carrier import billing  # noqa: F401  (registers the Billing endpoints)

__all__ = ["bp"]
