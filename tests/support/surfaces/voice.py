"""The voice API through the Chalice test client (surface tests) and small
builders shared with the integration tests."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

BASE = "/api/v1"


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes | str) -> None:
        self.status_code, self.headers = status, {k.lower(): v for k, v in headers.items()}
        self.text = body.decode() if isinstance(body, bytes) else (body or "")
        self.json = json.loads(self.text) if self.text else None


class Voice:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.token: str | None = None
        self.tokens: dict[str, Any] = {}

    def authorize(self, **form: str) -> Reply:
        response = self.client.post(BASE + "/oauth/authorize", body=urlencode(form),
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "Accept": "application/json"})
        return Reply(response.status_code, response.headers, response.body)

    def login(self, username: str, password: str) -> dict[str, Any]:
        reply = self.authorize(username=username, password=password)
        assert reply.status_code == 200, reply.text
        self.tokens = reply.json
        self.token = reply.json["access_token"]
        return reply.json

    def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None,
             headers: dict[str, str] | None = None, token: str | None = None) -> Reply:
        sent = {"Accept": "application/json"}
        if (token or self.token) is not None:
            sent["Authorization"] = f"Bearer {token or self.token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if payload is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        response = getattr(self.client, method.lower())(BASE + path, headers=sent, body=payload)
        return Reply(response.status_code, response.headers, response.body)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


# The document's account (Darren's Pizzas) has this mbn, and its call examples present it.
DOCUMENT_NUMBER = "+441234567890"


def make_account(principal: Any, name: str = "Darren's Pizzas", numbers: tuple[str, ...] = (),
                 own_numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """A customer (account) with active numbers (DDIs) of the inventory, and
    ``own_numbers`` (E.164, e.g. DOCUMENT_NUMBER) recorded as numbers it has
    from elsewhere, also DDIs. A number is one customer's in a tenant."""
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.numbers import sales
    from tests.support.worlds.numbers import own

    customer = customers.create_customer(principal=principal, fields={"name": name})
    if numbers:
        own(principal, customer, list(numbers))
    for number in own_numbers:
        sales.assign(principal=principal, customer_id=customer["id"], number=number, record_own=True)
    return customer


def account_ref(principal: Any, customer: dict[str, Any]) -> str:
    from chalicelib.domain.voice import opaque_id

    return opaque_id(principal.tenant_id, "ACCOUNT", customer["id"])


ADDRESS = {"line1": "Unit 5 The Old Printworks", "line2": "20 Wharf Rd", "level1": "East Sussex",
           "level2": "Eastbourne", "postalCode": "BN213AW", "country": "United Kingdom"}
TRUNK = {"ip": "1.1.1.1", "port": 5060, "vendor": "generic", "callerFormat": "national",
         "calledFormat": "national", "description": "Primary IP Address", "zone": "eu-west-1", "countryCode": "GB"}
EVENT_HOOK = {"app": "event.generic", "url": "http://test.com/myevent", "authType": "DISABLED", "method": "POST",
              "priority": 10}
FLOW_HOOK = {"app": "flow.generic", "url": "http://test.com/myplugin", "authType": "DISABLED", "method": "POST",
             "priority": 10}


def gateway(trunk_id: str, extension: str = "601", name: str = "Primary GW") -> dict[str, Any]:
    return {"type": "SIP_GATEWAY", "name": name, "extension": extension,
            "sipGateway": {"ringTime": 180, "maxCallTime": 14400, "record": False, "trunks": [trunk_id],
                           "present": "pass-through", "countryCode": "GB", "onComplete": "HANGUP",
                           "onFail": "HANGUP", "onNoAnswer": "HANGUP", "onBusy": "HANGUP"}}


def route_start(ddi: str, connect_to: str, extension: str = "600") -> dict[str, Any]:
    return {"type": "ROUTE_START", "name": "Start of Flow", "extension": extension,
            "startRoute": {"ddis": [ddi], "connectTo": connect_to}}


# The document's two call examples, as written there: they present DOCUMENT_NUMBER, so
# the account they are made on must have it (make_account(own_numbers=(DOCUMENT_NUMBER,))).
EXAMPLE_1 = {"callerId": "+441234567890", "tag": {"data": {"myKey": "myValue"}},
             "target": {"phoneNumber": {"number": "+441234567893"}},
             "verbs": [{"say": {"text": ["Your pizza is outside!"]}}, {"hangup": {"reason": "call-complete"}}]}
EXAMPLE_2 = {"callerId": "+441234567890", "target": {"extension": {"extension": "604", "overrideTo": "201"}},
             "verbs": [{"say": {"text": ["Connection you now!"]}},
                       {"dial": {"callerId": "+441234567890", "timeout": 10, "timeLimit": 14400,
                                 "targets": [{"phoneNumber": {"number": "+441234567891"}}]}}]}
