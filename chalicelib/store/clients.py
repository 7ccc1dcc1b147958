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


def client(service: str) -> Any:
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL", "")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    key = (service, endpoint, region)
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _build(service, endpoint, region)
            _cache[key] = found
    return found


def _build(service: str, endpoint: str, region: str) -> Any:
    import boto3.session
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        # The local API server is threaded; Lambda is one request at a time.
        max_pool_connections=64,
        connect_timeout=3,
        read_timeout=10,
        signature_version="s3v4" if service == "s3" else None,
        s3={"addressing_style": "path"} if service == "s3" else None,
    )
    # A Session per client: boto3's default session is not thread-safe.
    session = boto3.session.Session()
    return session.client(service, region_name=region, endpoint_url=endpoint or None, config=config)


def reset() -> None:
    """Forget cached clients (tests that start a new emulator)."""
    with _lock:
        _cache.clear()
