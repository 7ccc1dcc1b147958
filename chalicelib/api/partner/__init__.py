"""The partner billing API, mounted at /partner/api/v1 (seed 001)."""
from chalicelib.api.partner.routes import bp
from chalicelib.api.partner import openapi  # noqa: E402,F401  (registers GET /partner/api/v1/openapi.json)

__all__ = ["bp"]
