"""Every request a tracking surface test makes, and every answer, against the
OpenAPI description (chalicelib/api/tracking/openapi.py, the document served
at /tracking/v1/openapi.json): an answer must be documented for its operation
and match its schema (JSON by schema; XML by its element names), and a request
that succeeded must have been valid by the description: its path, query
parameters (names, values, required ones), media type and body."""
from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Any, Mapping

from openapi_schema_validator import OAS30Validator

from tests.support.checks.openapi import resolve

BASE = "/tracking/v1"


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    from chalicelib.api.tracking.openapi import spec

    return spec()


def _split(uri: str) -> tuple[str, list[tuple[str, str]]]:
    """(the resource path without base, format suffix nor '&' tail; every query pair)."""
    path, _, query = uri.partition("?")
    path, _, tail = path.partition("&")
    pairs = urllib.parse.parse_qsl(tail, keep_blank_values=True) + urllib.parse.parse_qsl(query, keep_blank_values=True)
    path = re.sub(r"\.(json|xml)(?=/|$)", "", path[len(BASE):])
    return path.rstrip("/") or "/", pairs


def template_of(path: str) -> tuple[str, dict[str, str]] | None:
    """The described template of ``path``; literals win over ids (``/customers/sources``)."""
    found = []
    for template in document()["paths"]:
        names = re.findall(r"\{(\w+)\}", template)
        match = re.fullmatch(re.sub(r"\\\{\w+\\\}", "([0-9]+)", re.escape(template)), path)
        if match:
            found.append((len(names), template, dict(zip(names, match.groups()))))
    return min(found)[1:] if found else None


def _scalar(value: str, schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "integer":
        return int(value) if re.fullmatch(r"-?[0-9]+", value) else value
    return value


def _validate(schema: Any, instance: Any, what: str) -> None:
    errors = sorted(OAS30Validator(resolve(schema, document())).iter_errors(instance), key=str)
    assert not errors, f"{what}: {errors[0].message}"


def check_request(method: str, uri: str, headers: Mapping[str, str], body: Any) -> None:
    path, pairs = _split(uri)
    found = template_of(path)
    assert found, f"{method} {path} is not described"
    template, captured = found
    item = document()["paths"][template]
    wire = item.get(method.lower())
    assert wire, f"{method} {template} is not described"
    params = {p["name"]: p for p in resolve(item.get("parameters", []) + wire.get("parameters", []), document())}
    for name, value in captured.items():
        _validate(params[name]["schema"], value, f"path parameter {name}")
    given = dict(pairs)
    for name, value in pairs:
        assert name in params and params[name]["in"] == "query", f"{method} {template}: ?{name} is not described"
        _validate(params[name]["schema"], _scalar(value, params[name]["schema"]), f"?{name}={value!r}")
    lowered = {k.lower(): v for k, v in headers.items()}
    for param in params.values():
        if param.get("required") and param["in"] == "query":
            assert param["name"] in given, f"{method} {template}: ?{param['name']} is required"
    override = given.get("_method") or lowered.get("x-http-method-override")
    effective = item.get(override.lower(), wire) if override and method == "POST" else wire
    if body in (None, b"", ""):
        documented = effective.get("requestBody") or wire.get("requestBody")
        assert not (documented or {}).get("required") or override, f"{method} {template} needs a body"
        return
    documented = effective.get("requestBody") or wire.get("requestBody")
    assert documented, f"{method} {template} takes no body"
    media = (lowered.get("content-type") or "").split(";")[0].strip().lower()
    assert media in documented["content"], f"{method} {template}: {media} is not described"
    if media == "multipart/form-data":
        return
    raw = body.decode() if isinstance(body, bytes) else body
    if media == "application/json":
        fields = {k: (v if isinstance(v, str) or v is None else str(v)) for k, v in json.loads(raw).items()}
    else:
        fields = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
    _validate(documented["content"][media]["schema"], fields, f"{method} {template} body")


def check_response(method: str, uri: str, response: Any) -> None:
    path, _ = _split(uri)
    found = template_of(path)
    if found is None or not uri.startswith(BASE + "/"):
        assert response.status_code == 404, f"{uri} is not described, yet answered {response.status_code}"
        return
    item = document()["paths"][found[0]]
    operation = item.get(method.lower())
    if operation is None:
        assert response.status_code == 405, f"{method} {found[0]} answered {response.status_code}"
        return
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {found[0]} answered {response.status_code}, not documented"
    media = (response.headers.get("Content-Type") or response.headers.get("content-type") or "").split(";")[0]
    assert media in documented["content"], f"{method} {found[0]}: {media} is not described"
    schema = resolve(documented["content"][media]["schema"], document())
    if media == "application/json":
        _validate(schema, response.json, f"{method} {found[0]} answer {response.status_code}")
    else:
        _xml_matches(schema, ET.fromstring(response.text.encode()))


def _xml_matches(schema: Mapping[str, Any], root: ET.Element) -> None:
    assert root.tag == schema["xml"]["name"], (root.tag, schema["xml"])
    properties = schema["properties"]
    for child in root:
        assert child.tag in properties, f"<{child.tag}> in <{root.tag}> is not described"
        described = properties[child.tag]
        if described.get("type") == "array":
            item = described["items"]["allOf"][0]
            names = {c.tag for c in child}
            assert names <= set(item["properties"]) or item.get("additionalProperties"), names
            assert set(item.get("required", [])) <= names, (child.tag, names)
