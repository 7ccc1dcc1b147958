"""The WAF web ACL that carries the rate limits on AWS (infra/waf.py): the
same limits as the local server, every surface answered 429 in its own
envelope with the rate-limit headers, and nothing that would keep a
credential (sampled requests, logging). cfn-lint checks the whole template
in tests/unit/infra/test_package.py."""
from __future__ import annotations

import json
from typing import Any

import pytest

from infra import rate_limits, waf

SAM = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api",
                                 "Properties": {"StageName": "api", "DefinitionBody": {"paths": {}}}}}}


@pytest.fixture()
def acl(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("DIALTONE_RATE_LIMITS", raising=False)
    return waf.resources(SAM)[waf.WEB_ACL]["Properties"]


def test_every_counted_limit_is_a_rate_rule_with_the_shared_numbers(acl):
    rate = {r["Name"]: r["Statement"]["RateBasedStatement"] for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]}
    counted = list(rate_limits.LIMITS)
    assert set(rate) == {f"count-{limit.name}" for limit in counted}
    for limit in counted:
        statement = rate[f"count-{limit.name}"]
        assert statement["Limit"] == limit.limit and statement["EvaluationWindowSec"] == rate_limits.WINDOW_SECONDS
        if limit.key == rate_limits.ADDRESS:
            assert statement["AggregateKeyType"] == "IP"
        else:
            assert statement["AggregateKeyType"] == "CUSTOM_KEYS" and len(statement["CustomKeys"]) == 1
    assert json.dumps(rate["count-per-token-parameter"]["CustomKeys"]).count('"QueryArgument"') == 1
    logins = json.dumps(rate["count-logins-per-address"]["ScopeDownStatement"])
    assert '"POST"' in logins and all(path in logins for path in rate_limits.LOGIN_PATHS)


@pytest.mark.parametrize("surface, envelope", [
    ("platform", lambda b: b["error_code"] == 429001), ("partner", lambda b: b["code"] == 429),
    ("carrier", lambda b: b["status"] == "429"), ("tracking", lambda b: b["errors"][0]["status"] == "429"),
    ("voice", lambda b: b["status"] == 429), ("portal", lambda b: b["status"] == 429),
])
def test_each_surface_is_answered_429_in_its_envelope_with_the_headers(acl, surface, envelope):
    body = json.loads(acl["CustomResponseBodies"][f"too-many-{surface}"]["Content"])
    assert envelope(body)
    blocks = [r for r in acl["Rules"] if r["Name"].startswith(f"429-{surface}-")]
    assert len(blocks) == len(rate_limits.LIMITS)
    for rule in blocks:
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429 and response["CustomResponseBodyKey"] == f"too-many-{surface}"
        assert {h["Name"] for h in response["ResponseHeaders"]} == {
            "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


@pytest.mark.parametrize("surface, envelope", [
    ("platform", lambda b: b["error_code"] // 1000 == 405), ("partner", lambda b: b["code"] == 405),
    ("carrier", lambda b: b["status"] == "405"), ("tracking", lambda b: b["errors"][0]["status"] == "405"),
    ("voice", lambda b: b["status"] == 405), ("other", lambda b: b["status"] == 405),
])
def test_a_method_outside_any_is_answered_405_in_the_surfaces_envelope(acl, surface, envelope):
    """TRACE never reaches the function (API Gateway's ANY lacks it): WAF answers
    it, under each surface's path, as the surface's guard answers a 405."""
    body = json.loads(acl["CustomResponseBodies"][f"not-allowed-{surface}"]["Content"])
    assert envelope(body), body
    rule = next(r for r in acl["Rules"] if r["Name"] == f"405-{surface}")
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 405 and response["CustomResponseBodyKey"] == f"not-allowed-{surface}"
    assert response["ResponseHeaders"] == [{"Name": "Allow", "Value": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"}]
    statement = json.dumps(rule["Statement"])
    assert '"NotStatement"' in statement and "^(DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT)$" in statement
    if surface != "other":
        assert dict(waf.SURFACE_PATHS)[surface] in statement


def test_the_methods_waf_lets_through_are_those_api_gateways_any_covers():
    """ANY is DELETE, GET, HEAD, OPTIONS, PATCH, POST and PUT: whatever else WAF
    let through would get the gateway's plain 405 again."""
    from infra import gateway_routes

    allow = gateway_routes.GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"]["responseParameters"][
        "gatewayresponse.header.Allow"]
    assert allow.strip("'") == ", ".join(waf.STANDARD_METHODS)


def test_counting_rules_come_before_the_blocking_ones_and_the_catch_all_last(acl):
    names = [r["Name"] for r in sorted(acl["Rules"], key=lambda r: r["Priority"])]
    first_block = next(i for i, n in enumerate(names) if not n.startswith("count-"))
    methods = [n for n in names[first_block:] if n.startswith("405-")]
    assert names[first_block:first_block + len(methods)] == methods and methods[-1] == "405-other"
    assert all(n.startswith("429-") for n in names[first_block + len(methods):]) and names[-1].startswith("429-other-")
    assert len({r["Priority"] for r in acl["Rules"]}) == len(names)


def test_nothing_keeps_a_request_with_its_credentials(acl):
    """Sampled requests and WAF logs hold whole headers and query strings."""
    for config in [acl["VisibilityConfig"], *(r["VisibilityConfig"] for r in acl["Rules"])]:
        assert config["SampledRequestsEnabled"] is False
    assert not any(r["Type"] == "AWS::WAFv2::LoggingConfiguration" for r in waf.resources(SAM).values())


def test_the_acl_is_on_the_apis_stage():
    association = waf.resources(SAM)[waf.ASSOCIATION]
    assert association["DependsOn"] == ["RestAPIapiStage"]
    assert association["Properties"]["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestAPI}/stages/api")


def test_no_acl_when_rate_limits_are_off(monkeypatch):
    monkeypatch.setenv("DIALTONE_RATE_LIMITS", "off")
    assert waf.resources(SAM) == {}
