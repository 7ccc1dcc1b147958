"""The call-tracking API, mounted at /tracking/{version} (seed 003).
Section modules register their resources in ``dialect.ROUTES``; importing
them here mounts them."""
from chalicelib.api.tracking import custom_fields, customers, greetings, misc, sources, statistics  # noqa: F401  (registers resources)
from chalicelib.api.tracking.dialect import bp

__all__ = ["bp"]
