"""The stack's REST API routes every path and method to the function
(infra/gateway_routes.py), whose guard answers 404/405 in the surface's envelope."""
from __future__ import annotations

from typing import Any

import pytest

from infra import gateway_routes


@pytest.fixture(scope="module")
def swagger() -> dict[str, Any]:
    from chalice.deploy.swagger import CFNSwaggerGenerator

    import app

    generated: dict[str, Any] = CFNSwaggerGenerator().generate_swagger(app.app)
    extra = gateway_routes.catch_all(generated)
    for path, methods in extra["paths"].items():
        generated["paths"].setdefault(path, {}).update(methods)
    generated["x-amazon-apigateway-gateway-responses"] = extra["x-amazon-apigateway-gateway-responses"]
    return generated


def resolve(paths: dict[str, Any], url: str) -> str | None:
    """API Gateway's choice: a literal child first, then the variable one; {proxy+} takes the rest."""
    node, segments = "", [s for s in url.strip("/").split("/") if s]
    while segments:
        children = {p[len(node) + 1:].split("/")[0] for p in paths
                    if p.startswith(node + "/") and p != node}
        head = segments[0]
        if head in children:
            node, segments = f"{node}/{head}", segments[1:]
            continue
        variable = [c for c in children if c.startswith("{")]
        if not variable:
            return None
        node = f"{node}/{variable[0]}"
        segments = [] if variable[0] == gateway_routes.PROXY else segments[1:]
    return node or "/"


@pytest.mark.parametrize("url", [
    "/", "/nothing", "/backend", "/backend/api/v2/customers", "/backend/api/v1", "/backend/api/v1/customers",
    "/backend/api/v1/customers/5/bogus/deeper", "/backend/api/v1/notes/1/noteAttachments/2/3",
    "/carrier", "/carrier/reserve/extra", "/partner/api/v1/customers/7/balance/x", "/tracking",
    "/tracking/v1/a/b/c/d/e/f/g/h/i", "/openapi.json",
])
def test_every_path_reaches_a_resource_with_any_method(swagger: dict[str, Any], url: str) -> None:
    resource = resolve(swagger["paths"], url)
    assert resource is not None, url
    assert gateway_routes.ANY in swagger["paths"][resource], resource


def test_routes_keep_their_methods_and_new_resources_declare_their_variables(swagger: dict[str, Any]) -> None:
    assert {"get", "post", gateway_routes.ANY} <= set(swagger["paths"]["/backend/api/v1/customers"])
    proxy = swagger["paths"]["/backend/api/v1/customers/{customer_id}/{proxy+}"][gateway_routes.ANY]
    assert [p["name"] for p in proxy["parameters"]] == ["customer_id", "proxy"]
    assert proxy[gateway_routes.INTEGRATION]["type"] == "aws_proxy"


def test_no_resource_has_two_variable_children(swagger: dict[str, Any]) -> None:
    # API Gateway refuses sibling path variables.
    parents: dict[str, set[str]] = {}
    for path in swagger["paths"]:
        parent, _, last = path.rstrip("/").rpartition("/")
        if last.startswith("{"):
            parents.setdefault(parent, set()).add(last)
    assert {p: v for p, v in parents.items() if len(v) > 1} == {}


def test_what_the_gateway_still_answers_is_not_missing_authentication_token(swagger: dict[str, Any]) -> None:
    response = swagger["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response["statusCode"] == 405 and "Allow" in str(response["responseParameters"])


def test_the_merge_template_adds_the_catch_all_to_the_api(swagger: dict[str, Any]) -> None:
    sam = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": swagger}}}}
    assert gateway_routes.api_resource_id(sam) == "RestAPI"


def test_the_api_stays_within_api_gateways_resource_quota(swagger: dict[str, Any]) -> None:
    # 300 resources per REST API by default: the greedy children count too.
    nodes = {"/" + "/".join(p.strip("/").split("/")[:n]) for p in swagger["paths"] for n in range(p.count("/") + 1)}
    assert len(nodes) <= 300
