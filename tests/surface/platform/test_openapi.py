"""The OpenAPI description is valid and every response below matches it."""
import base64
import hashlib
import re
from decimal import Decimal

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from chalicelib import clock
from chalicelib.api.platform import dialect
from chalicelib.api.platform.openapi import MAX_PAGE
from chalicelib.auth import api_key
from chalicelib.domain.money import ledger as ledger_rules
from chalicelib.services.money import invoices
from chalicelib.services.money import ledger
from chalicelib.services.identity import users
from tests.support.numbers import import_landlines, own


@pytest.fixture()
def document(api):
    response = api.client.get(api.base + "/openapi.json")  # no credentials needed
    assert response.status_code == 200
    import json

    spec = json.loads(response.body)
    validate(spec)
    return spec


def _resolve(node, spec):
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolve(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]], spec)
        return {k: _resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


def _template(spec, path):
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not documented")


def check(spec, method, path, response):
    # API Gateway drops a trailing slash before routing (the seed writes /customers/).
    template = _template(spec, path.split("?")[0].rstrip("/"))
    operation = spec["paths"][template].get(method.lower())
    assert operation, f"{method} {template} is not documented"
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {template} answered {response.status_code}, not documented"
    schema = _resolve(documented["content"]["application/json"]["schema"], spec)
    OAS30Validator(schema).validate(response.json)
    return response


def test_page_limit_matches_the_code():
    assert MAX_PAGE == dialect.MAX_PAGE


def test_every_route_is_documented(document):
    from tests.support.openapi import documented_routes, registered_routes

    registered = set(registered_routes("/backend/api/v1"))
    assert len(registered) > 40  # the routes were found
    assert registered == documented_routes(document)  # and nothing is described that is not served


def test_responses_match_the_description(api, document, tenant):
    def call(method, path, body=None, **kw):
        return check(document, method, path, api.call(method, path, body, **kw))

    admin = api_key.authenticate(tenant["user"]["api_key"], None)
    acme = call("POST", "/customers", {"customerName": "Acme Corp", "creditLimit": "10.5"}).json
    [owned] = own(admin, acme["id"], ["2062190000"])
    call("GET", "/customers/?expandNumbers=true&numberActive=true&expandServices&expandFeatures")
    call("GET", f"/customers/{acme['id']}?expandNumbers")
    call("PATCH", f"/customers/{acme['id']}", {"city": "Leeds"})
    call("PUT", f"/customers/{acme['id']}", {"city": "Leeds"})
    call("POST", f"/customers/{acme['id']}?action=generatePIN", {})
    call("POST", f"/customers/{acme['id']}?action=nope", {})
    call("POST", f"/customers/{acme['id']}?action=reinstate", {})
    call("GET", "/customers/424242")
    for plural, body, action in (("services", {"name": "Trunk", "unitPrice": "1.2"}, "approve"),
                                 ("features", {"name": "Rec"}, "drop"), ("notes", {"text": "hi"}, None)):
        item = call("POST", f"/customers/{acme['id']}/{plural}", body).json
        call("POST", f"/{plural}", {**body, "customerID": acme["id"]})
        call("GET", f"/{plural}")
        call("GET", f"/customers/{acme['id']}/{plural}")
        call("GET", f"/{plural}/{item['id']}")
        call("PATCH", f"/{plural}/{item['id']}", {"description" if plural != "notes" else "subject": "x"})
        call("PATCH", f"/{plural}/{item['id']}", {"id": 1})
        if action:
            call("POST", f"/{plural}/{item['id']}?action={action}", {"dateDrop": "2025-01-24"} if action == "drop" else {})
    call("GET", "/numbers")
    call("GET", f"/customers/{acme['id']}/numbers")
    call("GET", "/numbers/1")
    import_landlines(tenant["tenant"]["id"], ["2062190001", "2062190002"])
    credit = call("POST", "/customers", {"customerName": "On Credit", "creditLimit": "-100"}).json
    call("POST", f"/customers/{credit['id']}/numbers", {"number": "2062190001"})
    call("POST", "/numbers", {"number": "+12062190002", "customerID": credit["id"]})
    call("POST", f"/customers/{credit['id']}/numbers", {"number": "2062190002"})  # sold: 409004
    broke = call("POST", "/customers", {"customerName": "Broke Ltd"}).json
    import_landlines(tenant["tenant"]["id"], ["2062190003"])
    call("POST", f"/customers/{broke['id']}/numbers", {"number": "2062190003"})  # 402001
    call("GET", f"/numbers/{owned['id']}")
    call("GET", "/payments")
    call("GET", f"/customers/{acme['id']}/payments")
    call("GET", "/payments/1")
    # An invoice: a movement in a closed month, then the monthly job.
    with clock.frozen("2025-01-15T10:00:00"):
        ledger.post_movement(tenant=tenant["tenant"]["id"], account=acme["id"], activity=ledger_rules.ADJUSTMENT,
                             amount=Decimal("2.5"), reference="x", idempotency_key="x")
    invoices.close_month(tenant=tenant["tenant"]["id"], month="2025-01")
    [invoice] = call("GET", "/invoices").json
    call("GET", f"/invoices/{invoice['id']}")
    call("GET", "/invoices")
    call("GET", f"/customers/{acme['id']}/invoices")
    call("GET", "/invoices/1")
    note = call("GET", "/notes").json[0]
    data = b"%PDF-1.4 hello"
    attachment = call("POST", f"/notes/{note['id']}/noteAttachments", {
        "fileName": "a.pdf", "_fileContent": base64.b64encode(data).decode(), "_fileSize": len(data),
        "_fileHash": hashlib.sha1(data).hexdigest()}).json
    call("POST", f"/notes/{note['id']}/noteAttachments", {"fileName": "a.pdf", "_fileContent": "***"})
    call("GET", f"/noteAttachments/{attachment['id']}?expandStoredFiles")
    call("GET", f"/notes/{note['id']}/noteAttachments?expandStoredFiles")
    call("GET", "/noteAttachments")
    call("PATCH", f"/noteAttachments/{attachment['id']}", {"description": "d"})
    call("POST", f"/notes/{note['id']}/noteAttachmentUploads", {"fileName": "b.pdf", "_fileSize": 10,
                                                                "_fileHash": "0" * 40})
    call("GET", "/users")
    call("GET", "/users/me")
    call("GET", "/requestLogs?limit=5")
    robot = users.create_user(tenant=tenant["tenant"]["id"], username=f"bot-{tenant['tenant']['id']}", api_only=True)
    call("POST", f"/users/{robot['id']}?action=issueAPIKey", {})
