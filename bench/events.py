"""API Gateway proxy events and a Lambda context, as AWS sends them, for
invoking a Chalice app in-process exactly as Lambda would."""
from __future__ import annotations

import uuid
from typing import Any


class LambdaContext:
    function_name = "bench"
    memory_limit_in_mb = 1024
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def api_event(method: str, resource: str, path: str, path_parameters: dict[str, str],
              headers: dict[str, str], source_ip: str = "198.51.100.7", body: str | None = None) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": "/api" + path, "stage": "api",
            "requestId": str(uuid.uuid4()), "identity": {"sourceIp": source_ip},
        },
        "body": body,
        "isBase64Encoded": False,
    }
