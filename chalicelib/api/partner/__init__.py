"""The partner billing API, mounted at /partner/api/v1 (seed 001).

Section modules register their routes on ``dialect.bp``; importing them here
is what mounts them."""
from chalicelib.api.partner import balances, signup  # noqa: F401  (register routes)
from chalicelib.api.partner.dialect import bp

__all__ = ["bp"]
