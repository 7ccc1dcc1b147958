"""Checking a surface's real answers against its served OpenAPI description."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from openapi_schema_validator import OAS30Validator


def served(client: Any, path: str) -> dict[str, Any]:
    """The description as served, without credentials, after checking it is a valid OpenAPI document."""
    from openapi_spec_validator import validate

    response = client.get(path)
    assert response.status_code == 200, response.body
    document = json.loads(response.body)
    validate(document)
    return document


def resolve(node: Any, document: dict[str, Any]) -> Any:
    """``node`` with every local $ref replaced by what it names (the descriptions have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, document)
        return {k: resolve(v, document) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, document) for v in node]
    return node


def check(document: dict[str, Any], method: str, template: str, status: int, body: Any) -> None:
    """The answer ``status`` is documented for the operation and ``body`` matches its schema."""
    operation = document["paths"].get(template, {}).get(method.lower())
    assert operation, f"{method} {template} is not documented"
    documented = operation["responses"].get(str(status))
    assert documented, f"{method} {template} answered {status}, which is not documented: {body}"
    schema = resolve(documented, document)["content"]["application/json"]["schema"]
    OAS30Validator(schema).validate(body)


def registered_routes(prefix: str) -> Iterator[tuple[str, str]]:
    """(path template under ``prefix``, method) of every route the app registers
    there, except the description itself; path parameters written ``{}``."""
    from app import app

    for route, methods in app.routes.items():
        if route.startswith(prefix + "/") and route != prefix + "/openapi.json":
            for method in methods:
                yield re.sub(r"\{[^}]+\}", "{}", route[len(prefix):]), method


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return {(re.sub(r"\{[^}]+\}", "{}", path), method.upper())
            for path, item in document["paths"].items() for method in item if method in methods}
