"""The wholesale carrier API, mounted at /carrier (seed 002).

Section modules register their endpoints on ``dialect.bp`` with
``@endpoint(name)``; importing them here is what mounts them."""
from chalicelib.api.carrier import (  # noqa: F401  (register endpoints)
    billing, orders, origination, porting, stats, termination,
)
from chalicelib.api.carrier.dialect import bp

__all__ = ["bp"]
