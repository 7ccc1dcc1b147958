"""The billing platform REST API, mounted at /backend/api/v1 (seed 000)."""
from chalicelib.api.backend.routes import bp

__all__ = ["bp"]
