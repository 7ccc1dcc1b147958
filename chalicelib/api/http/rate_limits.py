"""The 429 of the rate limits in every surface's OpenAPI description.

The limits themselves are applied in front of the app (the stack's WAF web
ACL, the local server's throttle; infra/rate_limits.py, docs/rate-limits.md),
in the envelope of the surface: ``documented`` adds to every operation of a
spec a 429 answer with the body of the operation's own 401 (or other 4xx)
and the rate-limit headers.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable

DESCRIPTION = ("too many requests from this address or with this credential (logins, key generation and "
               "failed credentials have lower limits): wait Retry-After seconds (docs/rate-limits.md)")
_INT = {"schema": {"type": "integer"}}
HEADERS = {
    "Retry-After": {**_INT, "description": "seconds to wait before the next request"},
    "X-RateLimit-Limit": {**_INT, "description": "requests allowed per window for the limit exceeded"},
    "X-RateLimit-Remaining": {**_INT, "description": "requests left in the window: 0"},
    "X-RateLimit-Reset": {**_INT, "description": "seconds until the window resets"},
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MODELS = ("401", "400", "404", "403")


def documented(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Decorates a surface's ``spec()``."""

    @functools.wraps(build)
    def spec() -> dict[str, Any]:
        return with_rate_limits(build())
    return spec


def with_rate_limits(spec: dict[str, Any]) -> dict[str, Any]:
    every = [operation["responses"] for item in spec.get("paths", {}).values() for method in _METHODS
             if isinstance(operation := item.get(method), dict) and isinstance(operation.get("responses"), dict)]
    # An operation with no error of its own (a public document) is refused in the surface's envelope too.
    envelope = next((model for responses in every if "content" in (model := _model(spec, responses))), {})
    for responses in every:
        responses["429"] = _throttled(spec, responses, envelope)
    return spec


def _model(spec: dict[str, Any], responses: dict[str, Any]) -> dict[str, Any]:
    return next((_resolve(spec, responses[s]) for s in _MODELS if s in responses), {})


def _throttled(spec: dict[str, Any], responses: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    model = _model(spec, responses)
    model = model if "content" in model else envelope
    if "429" in responses:
        # The operation's own 429 (a throttled login) or the limits' one, in the surface's envelope.
        answer = copy.deepcopy(_resolve(spec, responses["429"]))
        answer["description"] = f"{answer.get('description', '')}; or {DESCRIPTION}"
        for media, body in (model.get("content") or {}).items():
            own = answer.setdefault("content", {}).setdefault(media, copy.deepcopy(body))
            if own.get("schema") != body.get("schema"):
                own["schema"] = {"oneOf": [own["schema"], copy.deepcopy(body["schema"])]}
    else:
        answer = {"description": DESCRIPTION}
        if "content" in model:
            answer["content"] = copy.deepcopy(model["content"])
    answer["headers"] = {**answer.get("headers", {}), **HEADERS}
    return answer


def _resolve(spec: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    reference = answer.get("$ref")
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return answer
    node: Any = spec
    for part in reference[2:].split("/"):
        node = node[part]
    return _resolve(spec, node)
