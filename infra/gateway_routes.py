"""Every path and method of the stack's REST API reaches the function.

API Gateway answers a path no resource matches, and a method a resource lacks,
with its own 403 {"message": "Missing Authentication Token"}; Chalice's
swagger has one resource per route and only the route's methods. Here the
swagger gains:

- an ANY method on every resource (the root and the bare prefixes included),
  so a method a route lacks reaches the function;
- a greedy ``{proxy+}`` child (ANY) under every resource that has no path
  variable below it. API Gateway tries a resource's literal children first,
  then its variable one, so with a variable child everywhere every path ends
  on some resource.

The function's guard (chalicelib/api/http/guard.py) then answers 404 or 405
with Allow in the envelope of the surface the path is under, exactly as
the local server does. A method outside ANY, such as TRACE, is answered
405 in the surface's envelope by the web ACL (infra/waf.py) before API
Gateway sees it; without the ACL (rate limits off at packaging) API Gateway
answers it with the gateway response below: a plain JSON body, since a
gateway response cannot choose between surfaces.
"""
from __future__ import annotations

import copy
from typing import Any

ANY = "x-amazon-apigateway-any-method"
PROXY = "{proxy+}"
INTEGRATION = "x-amazon-apigateway-integration"
_OUTSIDE = ("{\"status\": 405, \"message\": \"$context.httpMethod is not a method of this API; the APIs are under "
            "/backend/api/v1, /carrier, /partner/api/v1, /tracking, /api/v1\"}")
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": {
        "statusCode": 405,
        "responseParameters": {"gatewayresponse.header.Allow": "'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT'"},
        "responseTemplates": {"application/json": _OUTSIDE},
    },
}


def api_resource_id(sam: dict[str, Any]) -> str:
    for logical_id, resource in sam.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Api" and "DefinitionBody" in resource.get("Properties", {}):
            return str(logical_id)
    raise LookupError("chalice output has no AWS::Serverless::Api with a DefinitionBody")


def catch_all(swagger: dict[str, Any]) -> dict[str, Any]:
    """The paths and gateway responses to merge into ``swagger`` (a deep merge: existing methods stay)."""
    paths: dict[str, Any] = swagger["paths"]
    integration = _integration(paths)
    every = set(paths)
    for path in paths:  # the parents of every route are resources too
        parts = path.strip("/").split("/")
        every.update("/" + "/".join(parts[:n]) for n in range(len(parts)))
    every.add("/")
    added: dict[str, Any] = {}
    for path in sorted(every):
        if ANY not in paths.get(path, {}):
            added[path] = {ANY: _method(integration, _variables(path))}
        if not _has_variable_child(path, every):
            child = path.rstrip("/") + "/" + PROXY
            added[child] = {ANY: _method(integration, _variables(child))}
    return {"paths": added, "x-amazon-apigateway-gateway-responses": copy.deepcopy(GATEWAY_RESPONSES)}


def _integration(paths: dict[str, Any]) -> dict[str, Any]:
    for methods in paths.values():
        for method in methods.values():
            if isinstance(method, dict) and method.get(INTEGRATION, {}).get("type") == "aws_proxy":
                return copy.deepcopy(method[INTEGRATION])
    raise LookupError("no aws_proxy integration in the swagger: does app.py define routes?")


def _method(integration: dict[str, Any], variables: list[str]) -> dict[str, Any]:
    method: dict[str, Any] = {
        "produces": ["application/json"],
        "responses": {"200": {"description": "200 response", "schema": {"$ref": "#/definitions/Empty"}}},
        INTEGRATION: copy.deepcopy(integration),
    }
    if variables:
        method["parameters"] = [{"name": name, "in": "path", "required": True, "type": "string"}
                                for name in variables]
    return method


def _variables(path: str) -> list[str]:
    return [part[1:-1].rstrip("+") for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _has_variable_child(path: str, every: set[str]) -> bool:
    prefix = path.rstrip("/") + "/"
    for other in every:
        if other.startswith(prefix):
            rest = other[len(prefix):]
            if "/" not in rest and rest.startswith("{"):
                return True
    return False
