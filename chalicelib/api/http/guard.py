"""What no surface route answers, in the envelope of the surface the path is
under: an unknown path (404), a method its route lacks (405 with Allow),
Chalice's own refusals (415 and the like, which it writes as
``{"Code": ..., "Message": ...}``) and an exception that escaped a surface's
wrapper (its error table, else its 500).

One Chalice middleware does it, so it is the same deployed and locally.
Deployed, infra/gateway_routes.py gives every API Gateway resource an ANY
method and adds a greedy ``{proxy+}`` child wherever a resource has no path
variable below it, so every path and method reaches the function; locally,
infra/local/api_server.py routes what no route matches to ``/{proxy+}``.
Either way the request arrives here with a resource path that is not a
route, or a method the route has not.
"""
from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from chalice import Response
from chalice.app import Request

from chalicelib.api.http.render import json_response
from chalicelib.api.http.surface import unexpected
from chalicelib.domain.errors import DialtoneError

_log = logging.getLogger(__name__)

# The resource path of what API Gateway (or the local server) could not route to a surface route.
PROXY = "{proxy+}"
_VARIABLE = re.compile(r"\{(\w+)\+?\}")


@dataclass(frozen=True)
class Mount:
    """A surface's URL prefix and its errors module, which offers
    ``refusal(request, status, message, headers)`` and
    ``escaped(request, error)`` (a DialtoneError no handler caught)."""

    prefix: str
    errors: str

    def covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")


MOUNTS: tuple[Mount, ...] = (
    Mount("/backend/api/v1", "chalicelib.api.platform.errors"),
    Mount("/carrier", "chalicelib.api.carrier.errors"),
    Mount("/partner/api/v1", "chalicelib.api.partner.errors"),
    Mount("/tracking", "chalicelib.api.tracking.errors"),
    Mount("/api/v1", "chalicelib.api.voice.errors"),
)


def path_of(request: Request) -> str:
    """The request's path without the stage: the resource template with its
    variables filled in (``context['path']`` carries the stage on execute-api)."""
    template = request.context.get("resourcePath") or "/"
    params = request.uri_params or {}
    return _VARIABLE.sub(lambda match: str(params.get(match.group(1), "")), template).rstrip("/") or "/"


def mount_of(path: str) -> Mount | None:
    found = [mount for mount in MOUNTS if mount.covers(path)]
    return max(found, key=lambda mount: len(mount.prefix)) if found else None


def refusal(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    mount = mount_of(path_of(request))
    if mount is None:
        return _outside(status, message, headers)
    answer: Response = importlib.import_module(mount.errors).refusal(request, status, message, dict(headers or {}))
    return answer


def _outside(status: int, message: str, headers: Mapping[str, str] | None) -> Response:
    """A path under no surface. The same shape as the gateway response infra writes for the stack."""
    prefixes = ", ".join(mount.prefix for mount in MOUNTS)
    return json_response({"status": status, "message": f"{message}; the APIs are under {prefixes}"}, status,
                         headers)


def middleware(routes: Mapping[str, Mapping[str, Any]]) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """The Chalice HTTP middleware over ``routes`` (the app's route table)."""

    def guard(request: Request, get_response: Callable[[Request], Response]) -> Response:
        resource = request.context.get("resourcePath") or ""
        methods = routes.get(resource) or {}
        method = (request.method or "").upper()
        if not methods:
            return refusal(request, 404, f"no resource at {path_of(request)}")
        if method not in methods:
            allow = ", ".join(sorted(methods))
            return refusal(request, 405, f"{method} is not allowed on {path_of(request)}; allowed: {allow}",
                           {"Allow": allow})
        try:
            response = get_response(request)
        except DialtoneError as error:
            return _escaped(request, error)
        except Exception as error:
            return unexpected(request, error, envelope=lambda busy: _escaped(request, busy),
                              internal=lambda: refusal(request, 500, "the request failed unexpectedly; it has been logged"))
        body = response.body
        if isinstance(body, dict) and set(body) == {"Code", "Message"}:
            # Chalice's own refusal (e.g. 415 for a Content-Type the route does not list).
            kept = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
            return refusal(request, response.status_code, str(body["Message"]), kept)
        return response

    return guard


def _escaped(request: Request, error: DialtoneError) -> Response:
    mount = mount_of(path_of(request))
    if mount is None:
        return _outside(500, "the request failed unexpectedly", None)
    answer: Response = importlib.import_module(mount.errors).escaped(request, error)
    return answer
