"""The voice platform API, mounted at /api/v1 (seed 004; docs/voice-api.md).
Section modules register on ``dialect.bp``; importing them here mounts them."""
from chalicelib.api.voice import accounts, calls, devices, hooks, oauth, trunks  # noqa: F401  (registers routes)
from chalicelib.api.voice.dialect import bp

__all__ = ["bp"]
