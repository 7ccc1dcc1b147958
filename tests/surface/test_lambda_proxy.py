"""The app as API Gateway calls it: the REST API's Lambda proxy event
(tests/events/apigateway_proxy.json) in, a proxy response out."""
from __future__ import annotations

import json

from chalice.local import LambdaContext

from tests.support.harness import events


def test_the_app_answers_api_gateways_proxy_event(aws: None) -> None:
    from app import app

    event = events.load("apigateway_proxy")
    context = LambdaContext(function_name="dialtone-test", memory_size=1024, max_runtime_ms=30_000)
    response = app(event, context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["paths"]  # the billing API's OpenAPI description
    assert response["headers"]["Content-Type"].startswith("application/json")
