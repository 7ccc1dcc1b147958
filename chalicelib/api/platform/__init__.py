"""The billing platform REST API, mounted at /backend/api/v1 (seed 000).
Route modules register on ``routes.bp``; importing them here mounts them."""
from chalicelib.api.platform import attachments, resources, users  # noqa: F401  (registers routes)
from chalicelib.api.platform.routes import bp

__all__ = ["bp"]
