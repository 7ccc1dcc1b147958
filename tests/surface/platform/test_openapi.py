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
from tests.support.worlds.numbers import import_landlines, own


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


def _operation(spec, method, path):
    # API Gateway drops a trailing slash before routing (the seed writes /customers/).
    template = _template(spec, path.split("?")[0].rstrip("/"))
    operation = spec["paths"][template].get(method.lower())
    assert operation, f"{method} {template} is not documented"
    return template, operation


def request_is_valid(spec, method, path, body):
    """Whether the JSON ``body`` matches the operation's request body (None: no body sent)."""
    _, operation = _operation(spec, method, path)
    documented = operation.get("requestBody")
    if body is None:
        return documented is None or not documented.get("required")
    assert documented, f"{method} {path} takes no body"
    schema = _resolve(documented["content"]["application/json"]["schema"], spec)
    return OAS30Validator(schema).is_valid(body)


def check(spec, method, path, response, body=None):
    """The answer is documented and matches; a request that succeeded was valid by the description."""
    template, operation = _operation(spec, method, path)
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {template} answered {response.status_code}, not documented"
    if response.status_code < 300:
        assert request_is_valid(spec, method, path, body), f"{method} {path} accepted {body}, invalid by the spec"
    media = response.headers.get("Content-Type", "").split(";")[0]
    if "content" not in documented:
        return response
    if media != "application/json" and response.status_code != 303:
        assert "*/*" in documented["content"] or media in documented["content"], (template, media)
        return response
    if response.status_code == 303:
        return response
    schema = _resolve(documented["content"]["application/json"]["schema"], spec)
    OAS30Validator(schema).validate(response.json)
    return response


def test_page_limit_matches_the_code():
    assert MAX_PAGE == dialect.MAX_PAGE


def test_every_route_is_documented(document):
    from tests.support.checks.openapi import documented_routes, registered_routes

    registered = set(registered_routes("/backend/api/v1"))
    assert len(registered) > 40  # the routes were found
    assert registered == documented_routes(document)  # and nothing is described that is not served


def test_responses_match_the_description(api, document, tenant):
    def call(method, path, body=None, **kw):
        return check(document, method, path, api.call(method, path, body, **kw), body)

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
    call("POST", f"/numbers/{owned['id']}?action=drop", {"dateDrop": "2025-01-24", "statusReason": "moved"})
    call("POST", f"/numbers/{owned['id']}?action=drop", {})  # 409003
    call("POST", f"/numbers/{owned['id']}?action=reinstate")
    call("POST", f"/customers/{acme['id']}/numbers", {"number": "+442071234567"})  # the customer's own
    call("POST", "/numbers", {"number": "+12065550123", "customerID": acme["id"]})
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
    call("GET", f"/noteAttachments/{attachment['id']}", headers={"Accept": "*/*"})
    call("GET", f"/noteAttachments/{attachment['id']}", headers={"Accept": "application/pdf"})
    call("PUT", f"/noteAttachments/{attachment['id']}", {"fileName": "b.pdf", "description": None})
    call("GET", f"/notes/{note['id']}/noteAttachments?expandStoredFiles")
    call("GET", "/noteAttachments")
    call("PATCH", f"/noteAttachments/{attachment['id']}", {"description": "d"})
    call("POST", f"/notes/{note['id']}/noteAttachmentUploads", {"fileName": "b.pdf", "_fileSize": 10,
                                                                "_fileHash": "0" * 40})
    call("GET", "/users")
    call("GET", "/users/me")
    call("GET", "/requestLogs?limit=5")
    call("GET", "/requestLogs?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z")
    call("GET", "/requestLogs?since=0000-01-01")  # 400
    call("GET", f"/customers/{acme['id']}/notes?offest=1&limit=1&idAfter=0&updatedSince=2000-01-01T00:00:00+00:00")
    call("POST", "/customers", {"name": "Named Ltd", "accountNumber": "NAMED-1", "email": "a@b.c", "phone": None,
                                "creditLimit": 5, "accountManagerID": None})
    call("POST", f"/customers/{acme['id']}/services", {"name": "Line", "quantity": 3, "unitPrice": "0.12345",
                                                      "startDate": "2025-01-01", "reference": "r",
                                                      "customerID": acme["id"]})
    call("POST", f"/customers/{acme['id']}/notes", {"subject": None, "text": "t"})
    call("POST", f"/customers/{acme['id']}?action=drop", {"dateDrop": "2025-01-24", "status": "Suspended",
                                                          "statusReason": "r"})
    call("POST", f"/customers/{acme['id']}?action=reinstate", {"statusReason": None})
    call("POST", "/customers", raw="customerName=x", headers={"Content-Type": "text/plain"})  # 415
    robot = users.create_user(tenant=tenant["tenant"]["id"], username=f"bot-{tenant['tenant']['id']}", api_only=True)
    call("POST", f"/users/{robot['id']}?action=issueAPIKey", {})


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/customers", {}),                                        # a name is required
    ("POST", "/customers", {"customerName": ""}),
    ("POST", "/customers", {"customerName": "A", "balance": 1}),       # read-only
    ("POST", "/customers", {"customerName": "A", "creditLimit": "1_000"}),
    ("POST", "/customers", {"customerName": "A", "creditLimit": "1.123456"}),
    ("POST", "/customers", {"customerName": "A", "email": "x" * 255}),
    ("POST", "/customers", {"customerName": "A", "accountManagerID": "1"}),
    ("PATCH", "/customers/{customer}", {"accountNumber": "X1"}),       # fixed after creation
    ("PATCH", "/customers/{customer}", {"customerName": None}),
    ("POST", "/customers/{customer}/notes", {"subject": "no text"}),
    ("POST", "/customers/{customer}/notes", {"text": "x" * 20001}),
    ("POST", "/notes", {"text": "no customer"}),
    ("POST", "/customers/{customer}/services", {"name": "S", "quantity": -1}),
    ("POST", "/customers/{customer}/services", {"name": "S", "colour": "red"}),
    ("POST", "/customers/{customer}/features", {"name": "F", "startDate": "24/01/2025"}),
    ("POST", "/customers/{customer}/numbers", {"number": "12345"}),
    ("POST", "/customers/{customer}/numbers", {"number": 2065550123}),
    ("POST", "/customers/{customer}?action=drop", {"dateDrop": "2025-01-24", "colour": "red"}),
    ("POST", "/customers/{customer}?action=generatePIN", {"statusReason": "x" * 501}),
    ("POST", "/notes/{note}/noteAttachments", {"fileName": "a.txt"}),  # no content
    ("POST", "/notes/{note}/noteAttachments", {"fileName": "a.txt", "_fileContent": "aGk=", "_fileSize": -1}),
    ("POST", "/notes/{note}/noteAttachments", {"fileName": "a.txt", "_fileContent": "aGk=", "_fileHash": "abc"}),
    ("POST", "/notes/{note}/noteAttachmentUploads", {"fileName": "a.txt", "_fileSize": 3}),
])
def test_bodies_the_description_refuses_are_refused(api, document, method, path, body):
    """The description and the code agree on what is invalid: a body the
    description refuses is answered 400, with the documented envelope."""
    owner = api.post("/customers", {"customerName": "Acme"}).json
    note = api.post(f"/customers/{owner['id']}/notes", {"text": "n"}).json
    path = path.format(customer=owner["id"], note=note["id"])
    assert not request_is_valid(document, method, path, body), body
    response = check(document, method, path, api.call(method, path, body), body)
    assert response.status_code == 400, (path, body, response.body)
