"""Secrets of a stage, from the environment or SSM Parameter Store.

``secret("LINK_SIGNING_SECRET")`` returns, in this order:
  1. the variable itself, if set (local and test stages, and operators who
     prefer to inject it);
  2. the SecureString parameter named by ``LINK_SIGNING_SECRET_PARAMETER``
     (deployed stages: ``/dialtone/<stage>/link-signing-secret``), read with
     GetParameter(WithDecryption) at first use, not at import (cold starts
     that never need it do not pay the call), and cached per process for
     CACHE_SECONDS so a rotated value is picked up without a deployment;
  3. None.
The value never reaches the environment, the template or the logs. The
function role may read exactly the parameters the stage names
(infra/iam_policy.py); the AWS managed key aws/ssm needs no kms:Decrypt grant.
"""
from __future__ import annotations

import os
import threading
import time

from chalicelib.store.clients import client

CACHE_SECONDS = 600
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def secret(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    parameter = os.environ.get(f"{name}_PARAMETER")
    if not parameter:
        return None
    with _lock:
        cached = _cache.get(parameter)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    found = client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    with _lock:
        _cache[parameter] = (time.monotonic() + CACHE_SECONDS, found)
    return str(found)


def forget() -> None:
    """Drop cached values (tests, or after an operator rotated a secret)."""
    with _lock:
        _cache.clear()


def put_secret(name: str, value: str) -> str:
    """Overwrite the SecureString parameter ``<name>_PARAMETER`` names (a key
    rotation run by an operator); its name."""
    parameter = os.environ.get(f"{name}_PARAMETER")
    if not parameter:
        raise RuntimeError(f"{name}_PARAMETER is not set for this stage")
    client("ssm").put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
    forget()
    return parameter
