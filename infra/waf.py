"""The rate limits of infra/rate_limits.py on AWS: a WAFv2 web ACL on the REST
API's stage, so counting costs the function nothing and a flood never
reaches it.

- One rate-based rule per limit (aggregated by source IP, or by the
  credential as a custom key: the Authorization header, the ``token`` header,
  the ``token`` query argument, the portal's session cookie), action Count
  with a label ``dialtone-rate:<limit>``: counting is all it does.
- Then, for every surface and every limit, a rule that blocks a labelled
  request under the surface's path with a custom 429: the surface's own
  envelope (the body its errors module writes, rendered here at packaging),
  ``Retry-After``, ``X-RateLimit-Limit``, ``-Remaining: 0`` and ``-Reset``.
  Paths are matched with CONTAINS, most specific surface first, so the
  execute-api URL's stage prefix (``/api/carrier/...``) matches as a custom
  domain's bare path does; the last rules, for any other path, answer the
  guard's plain envelope.

- After the counting rules, for every surface, a rule that blocks a method
  outside API Gateway's ANY (TRACE, or any made-up one, which API Gateway
  would answer itself with the plain gateway response of
  infra/gateway_routes.py) with a custom 405 in the surface's envelope and
  ``Allow`` listing the methods ANY covers. A WAF body is fixed text: it
  names neither the method nor the path, nor the route's own methods, which
  the guard's 405 for a method ANY covers does (docs/deploy.md).

WAF counts over a sliding window and cannot see answers: the failures-only
limit (Digest 401s) is local only, and the reset headers carry the window
length rather than the exact second (docs/rate-limits.md). Sampled requests
are off and no logging configuration is attached: WAF would keep whole
headers and query strings, credentials included (issue 15: no log line
carries one).
"""
from __future__ import annotations

import json
import re
from typing import Any

from infra import gateway_routes
from infra.rate_limits import ADDRESS, MESSAGE, WINDOW_SECONDS, Limit, limits, refusal_headers

WEB_ACL = "RateLimitWebAcl"
ASSOCIATION = "RateLimitWebAclAssociation"
# The surfaces' path prefixes, most specific first (CONTAINS: "/api/v1" is inside "/backend/api/v1").
SURFACE_PATHS = (("platform", "/backend/api/v1/"), ("partner", "/partner/api/v1/"), ("carrier", "/carrier/"),
                 ("tracking", "/tracking/"), ("portal", "/portal"), ("voice", "/api/v1/"), ("other", "/"))
_NO_TRANSFORM = [{"Priority": 0, "Type": "NONE"}]
# The methods API Gateway's ANY covers: the function (its guard) answers them on every path.
STANDARD_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
NOT_ALLOWED = f"the method is not one of this API's: {', '.join(STANDARD_METHODS)}"


def resources(sam: dict[str, Any]) -> dict[str, Any]:
    """The web ACL and its association with the API's stage; none when the
    rate limits are off in the packaging environment."""
    counted = list(limits())
    if not counted:
        return {}
    api = gateway_routes.api_resource_id(sam)
    stage = sam["Resources"][api]["Properties"]["StageName"]
    rules: list[dict[str, Any]] = [_rate_rule(limit, priority) for priority, limit in enumerate(counted)]
    for surface, path in SURFACE_PATHS:
        rules.append(_method_rule(surface, path, len(rules)))
    for surface, path in SURFACE_PATHS:
        for limit in counted:
            rules.append(_block_rule(surface, path, limit, len(rules)))
    return {
        WEB_ACL: {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}-rate-limits"},
            "Scope": "REGIONAL",
            "Description": "Dialtone rate limits, see docs/rate-limits.md",
            "DefaultAction": {"Allow": {}},
            "VisibilityConfig": _visibility("rate-limits"),
            "CustomResponseBodies": {
                **{_body_key(surface): {"ContentType": "APPLICATION_JSON", "Content": _envelope(path)}
                   for surface, path in SURFACE_PATHS},
                **{_method_body_key(surface): {"ContentType": "APPLICATION_JSON",
                                               "Content": _envelope(path, 405, NOT_ALLOWED)}
                   for surface, path in SURFACE_PATHS}},
            "Rules": rules,
        }},
        ASSOCIATION: {
            "Type": "AWS::WAFv2::WebACLAssociation",
            # The stage SAM creates for the API (logical id <Api><StageName>Stage).
            "DependsOn": [f"{api}{stage}Stage"],
            "Properties": {
                "ResourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/"
                                           f"${{{api}}}/stages/{stage}"},
                "WebACLArn": {"Fn::GetAtt": [WEB_ACL, "Arn"]},
            },
        },
    }


def _rate_rule(limit: Limit, priority: int) -> dict[str, Any]:
    statement: dict[str, Any] = {"Limit": limit.limit, "EvaluationWindowSec": WINDOW_SECONDS}
    if limit.key == ADDRESS:
        statement["AggregateKeyType"] = "IP"
    else:
        statement.update(AggregateKeyType="CUSTOM_KEYS", CustomKeys=[_custom_key(limit.key)])
    scope = _scope(limit)
    if scope:
        statement["ScopeDownStatement"] = scope
    return {"Name": f"count-{limit.name}", "Priority": priority, "Action": {"Count": {}},
            "RuleLabels": [{"Name": _label(limit)}],
            "Statement": {"RateBasedStatement": statement}, "VisibilityConfig": _visibility(f"count-{limit.name}")}


def _custom_key(key: str) -> dict[str, Any]:
    kind, _, name = key.partition(":")
    field = {"header": "Header", "query": "QueryArgument", "cookie": "Cookie"}[kind]
    return {field: {"Name": name, "TextTransformations": _NO_TRANSFORM}}


def _scope(limit: Limit) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = []
    if limit.methods:
        parts.append(_any_of([_match({"Method": {}}, method, "EXACTLY") for method in limit.methods]))
    if limit.paths:
        parts.append(_any_of([_match({"UriPath": {}}, path, "CONTAINS") for path in limit.paths]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"AndStatement": {"Statements": parts}}


def _any_of(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return statements[0] if len(statements) == 1 else {"OrStatement": {"Statements": statements}}


def _match(field: dict[str, Any], text: str, how: str) -> dict[str, Any]:
    return {"ByteMatchStatement": {"FieldToMatch": field, "SearchString": text, "PositionalConstraint": how,
                                   "TextTransformations": _NO_TRANSFORM}}


def _block_rule(surface: str, path: str, limit: Limit, priority: int) -> dict[str, Any]:
    labelled = {"LabelMatchStatement": {"Scope": "LABEL", "Key": _label(limit)}}
    statement = labelled if surface == "other" else {"AndStatement": {"Statements": [
        labelled, _match({"UriPath": {}}, path, "CONTAINS")]}}
    headers = refusal_headers(limit, WINDOW_SECONDS)
    name = f"429-{surface}-{limit.name}"
    return {"Name": name, "Priority": priority, "Statement": statement, "VisibilityConfig": _visibility(name),
            "Action": {"Block": {"CustomResponse": {
                "ResponseCode": 429, "CustomResponseBodyKey": _body_key(surface),
                "ResponseHeaders": [{"Name": k, "Value": v} for k, v in headers.items()]}}}}


def _method_rule(surface: str, path: str, priority: int) -> dict[str, Any]:
    standard = {"RegexMatchStatement": {"FieldToMatch": {"Method": {}}, "TextTransformations": _NO_TRANSFORM,
                                        "RegexString": f"^({'|'.join(STANDARD_METHODS)})$"}}
    outside = {"NotStatement": {"Statement": standard}}
    statement = outside if surface == "other" else {"AndStatement": {"Statements": [
        outside, _match({"UriPath": {}}, path, "CONTAINS")]}}
    name = f"405-{surface}"
    return {"Name": name, "Priority": priority, "Statement": statement, "VisibilityConfig": _visibility(name),
            "Action": {"Block": {"CustomResponse": {
                "ResponseCode": 405, "CustomResponseBodyKey": _method_body_key(surface),
                "ResponseHeaders": [{"Name": "Allow", "Value": ", ".join(STANDARD_METHODS)}]}}}}


def _envelope(path: str, status: int = 429, message: str = MESSAGE) -> str:
    """The body the surface under ``path`` writes for ``status`` (its errors module, through the guard)."""
    from chalice.app import Request

    from chalicelib.api.http import guard

    prefix = path.rstrip("/") or "/"
    event = {"httpMethod": "GET", "headers": {}, "multiValueQueryStringParameters": None,
             "pathParameters": {"proxy": "x"}, "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"httpMethod": "GET", "resourcePath": f"{prefix}/{{proxy+}}", "path": prefix}}
    answer = guard.refusal(Request(event), status, message, {})
    body = answer.body
    return body if isinstance(body, str) else json.dumps(body)


def _label(limit: Limit) -> str:
    return f"dialtone-rate:{limit.name}"


def _body_key(surface: str) -> str:
    return f"too-many-{surface}"


def _method_body_key(surface: str) -> str:
    return f"not-allowed-{surface}"


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": True,
            "MetricName": re.sub(r"[^A-Za-z0-9_-]", "-", f"dialtone-{name}")[:128]}
