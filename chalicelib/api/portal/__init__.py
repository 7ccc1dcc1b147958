"""The customer and partner portal, mounted at /portal: server-rendered pages
on the same services as the APIs (docs/portal.md).

Page modules register their routes on ``dialect.bp``; importing them here is
what mounts them. Jinja2, segno and the services load on the first page."""
from chalicelib.api.portal import (  # noqa: F401  (register routes)
    api_access, customers, dashboard, invoices, login, numbers, statistics,
)
from chalicelib.api.portal.dialect import bp

__all__ = ["bp"]
