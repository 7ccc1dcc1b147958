"""Lazily built, cached boto3 clients.

Clients are created on first use (not at import: every cold start pays for
imports) and cached per (service, endpoint, region) so a test that points the
environment at another endpoint gets a client for it. Endpoints come from the
standard ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which boto3 honours itself.
"""
from __future__ import annotations

import os
import threading
from typing import Any

_cache: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


def client(service: str, *, unsigned_payload: bool = False) -> Any:
    """``unsigned_payload`` (S3): a client that does not SHA-256 the body to
    sign it, for streamed PUTs (see blobs.ObjectWriter)."""
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL", "")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    key = (service + ("#unsigned" if unsigned_payload else ""), endpoint, region)
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _build(service, endpoint, region, unsigned_payload)
            _cache[key] = found
    return found


def _build(service: str, endpoint: str, region: str, unsigned_payload: bool = False) -> Any:
    import boto3.session
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        # The local API server is threaded; Lambda is one request at a time.
        max_pool_connections=64,
        connect_timeout=3,
        read_timeout=10,
        signature_version="s3v4" if service == "s3" else None,
        # Over HTTPS with a checksum botocore already sends UNSIGNED-PAYLOAD;
        # over plain HTTP (the local stand-in) it would read the whole body to
        # hash it first, which a streamed body cannot allow.
        s3=({"addressing_style": "path", **({"payload_signing_enabled": False} if unsigned_payload else {})}
            if service == "s3" else None),
    )
    # A Session per client: boto3's default session is not thread-safe.
    session = boto3.session.Session()
    return session.client(service, region_name=region, endpoint_url=endpoint or None, config=config)


def reset() -> None:
    """Forget cached clients (tests that start a new emulator)."""
    with _lock:
        _cache.clear()
