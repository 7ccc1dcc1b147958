"""Lazily built, cached AWS clients.

Clients are created on first use (not at import: every cold start pays for
imports) and cached per (service, endpoint, region) so a test that points the
environment at another endpoint gets a client for it. Endpoints come from the
standard ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which botocore honours itself.

They are botocore's clients, built without boto3: a boto3 client *is* a
botocore client (boto3 only adds S3 transfer helpers such as upload_file,
which Dialtone does not use, and resources), and importing boto3 costs a cold
start about 25 ms more (boto3, s3transfer, multiprocessing, ...). The clients'
sessions share one data loader, so the second and later clients of a process
reuse the service and endpoint files the first one parsed (about 70 ms less
per client than a fresh session each).
"""
from __future__ import annotations

import os
import threading
from typing import Any

_cache: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()
_loader: Any = None  # botocore's data loader, shared by every client's session (built under _lock)


def client(service: str, *, unsigned_payload: bool = False) -> Any:
    """``unsigned_payload`` (S3): a client that does not SHA-256 the body to
    sign it, for streamed PUTs (see blobs.ObjectWriter)."""
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL", "")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    timeouts = os.environ.get("AWS_CALL_TIMEOUTS", "")
    key = (service + ("#unsigned" if unsigned_payload else ""), endpoint, region + "#" + timeouts)
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _build(service, endpoint, region, unsigned_payload, call_timeouts(timeouts))
            _cache[key] = found
    return found


# botocore's standard mode: the first try and three retries, each retry after
# a jittered back-off of at most 1, 2, then 4 s (docs/architecture.md).
MAX_ATTEMPTS = 4
LOCAL_TIMEOUTS = (3.0, 10.0)  # (connect, read) seconds: DynamoDB Local on a busy machine can be slow


def call_timeouts(text: str) -> tuple[float, float]:
    """(connect, read) seconds per attempt, from ``AWS_CALL_TIMEOUTS`` ("1,3").
    The deployed stages set it short: API Gateway abandons the API function
    at 29 s and most workers have 30 s, and with 10 s reads an AWS endpoint
    that accepts a request and never answers would outlast them (API
    Gateway's 504, a killed invocation) instead of ending in our 503 or a
    failed message. In-region DynamoDB and S3 answer in milliseconds; a read
    timeout bounds each socket read, not a whole transfer."""
    if not text:
        return LOCAL_TIMEOUTS
    connect, read = (float(part) for part in text.split(","))
    return connect, read


def worst_call_seconds(timeouts: tuple[float, float], attempts: int = MAX_ATTEMPTS) -> float:
    """How long one AWS call can take before it gives up: every attempt timing
    out, plus the longest back-off before each retry."""
    connect, read = timeouts
    return attempts * (connect + read) + float(sum(min(20, 2 ** retry) for retry in range(attempts - 1)))


def _build(service: str, endpoint: str, region: str, unsigned_payload: bool,
           timeouts: tuple[float, float]) -> Any:
    import botocore.session
    from botocore.config import Config

    global _loader

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        # The local API server is threaded; Lambda is one request at a time.
        max_pool_connections=64,
        connect_timeout=timeouts[0],
        read_timeout=timeouts[1],
        signature_version="s3v4" if service == "s3" else None,
        # Over HTTPS with a checksum botocore already sends UNSIGNED-PAYLOAD;
        # over plain HTTP (the local stand-in) it would read the whole body to
        # hash it first, which a streamed body cannot allow.
        s3=({"addressing_style": "path", **({"payload_signing_enabled": False} if unsigned_payload else {})}
            if service == "s3" else None),
    )
    # A Session per client (a session is not thread-safe, and each resolves
    # credentials from the environment as it is now); one loader for all.
    session = botocore.session.Session()
    if _loader is None:
        _loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _loader)
    return session.create_client(service, region_name=region, endpoint_url=endpoint or None, config=config)


# Error codes that mean "too fast, slow down" across DynamoDB, S3 and SQS (the
# ones botocore's standard retry mode treats as throttling), and the
# TransactWriteItems cancellation reason for the same thing.
_THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
})


def transient(error: BaseException) -> bool:
    """Whether ``error`` is AWS failing to answer (throttled, a 5xx, a timeout
    or a dropped connection) after botocore's retries: a fault of the moment,
    not of the request, which the API answers 503 with Retry-After."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, (ConnectionError, HTTPClientError)):
        return True
    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ThrottlingError" for r in reasons)
    return code in _THROTTLING or status >= 500


def unreachable_endpoint(error: BaseException) -> str | None:
    """The endpoint URL when ``error`` is AWS not reachable at all (nothing
    listening: a stopped local runtime), else None."""
    from botocore.exceptions import EndpointConnectionError

    if isinstance(error, EndpointConnectionError):
        return str(error.kwargs.get("endpoint_url", "?"))
    return None


def reset() -> None:
    """Forget cached clients (tests that start a new emulator)."""
    global _loader
    with _lock:
        _cache.clear()
        _loader = None
