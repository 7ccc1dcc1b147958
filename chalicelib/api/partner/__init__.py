"""The partner billing API, mounted at /partner/api/v1 (seed 001)."""
from chalicelib.api.partner.routes import bp

__all__ = ["bp"]
