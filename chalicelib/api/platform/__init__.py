"""The billing platform REST API, mounted at /backend/api/v1 (seed 000).

Section modules register their routes on ``dialect.bp``; importing them here
is what mounts them."""
from chalicelib.api.platform import (  # noqa: F401  (register routes)
    attachments, billing, customers, items, numbers, openapi, users,
)
from chalicelib.api.platform.dialect import bp

__all__ = ["bp"]
