"""The billing platform REST API, mounted at /backend/api/v1 (seed 000).
Route modules register on ``routes.bp``; importing them here mounts them."""
from chalicelib.api.backend import attachments, resources, users  # noqa: F401  (registers routes)
from chalicelib.api.backend.routes import bp

__all__ = ["bp"]
