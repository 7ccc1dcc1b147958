"""The world and the callers of the authorisation matrix
(tests/surface/test_authorisation_matrix.py): tenant A with two customers
(X, whose objects every route addresses, and Y), tenant B, and one user per
kind of caller, each with the credential of every surface it can present.

Every request goes through the in-process Chalice test client, whose source
address is 127.0.0.1: the users that should pass the IP allow-list list
127.0.0.0/8 (the partner API refuses a user without one), the user outside
its allow-list lists 203.0.113.0/24 only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from tests.support.surfaces.portal import Codes, Portal
from tests.support.surfaces.voice import Voice

INSIDE = ["127.0.0.0/8"]
SURFACES = {"platform": "/backend/api/v1", "partner": "/partner", "carrier": "/carrier", "tracking": "/tracking",
            "voice": "/api/v1", "portal": "/portal"}
OUTSIDE = ["203.0.113.0/24"]


@dataclass
class Credentials:
    """What one caller presents on each surface (None: nothing)."""

    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    access_token: str | None = None
    cookie: str | None = None
    csrf: str | None = None
    account: str | None = None  # the carrier API's accountno: customer X's, whoever calls


@dataclass
class World:
    tenant: str
    customer: dict[str, Any]      # X: every customer-scoped route addresses it
    other_customer: dict[str, Any]  # Y: the customer-bound caller is bound to it
    ids: dict[str, str]           # path parameter -> a value naming one of A's objects (of X where scoped)
    callers: dict[str, Credentials] = field(default_factory=dict)


def _user(tenant: str, name: str, *, allowlist: list[str], key: bool = True, **kw: Any) -> dict[str, Any]:
    from chalicelib.services.identity import users

    user = users.create_user(tenant=tenant, username=f"{name}-{tenant}", **kw)
    if key:
        user["api_key"] = users.issue_api_key(tenant=tenant, user_id=user["id"])
    users.set_allowlist(tenant=tenant, user_id=user["id"], ips=allowlist)
    return user


def _voice_token(client: Any, username: str, password: str) -> str:
    reply = Voice(client).authorize(username=username, password=password)
    assert reply.status_code == 200, reply.text
    return str(reply.json["access_token"])


def _portal_session(client: Any, user: dict[str, Any]) -> tuple[str, str]:
    portal = Portal(client)
    answer = portal.login(user["username"], user["password"], Codes(user["totp_secret"]).next())
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/dashboard", answer.body
    portal.get("/dashboard")
    assert portal.cookie is not None
    return portal.cookie, portal.csrf()


def _logged_in(client: Any, user: dict[str, Any], account: str, *, key: str | None = None) -> Credentials:
    cookie, csrf = _portal_session(client, user)
    return Credentials(api_key=key or user.get("api_key"), username=user["username"], password=user["password"],
                       access_token=_voice_token(client, user["username"], user["password"]),
                       cookie=cookie, csrf=csrf, account=account)


def build(client: Any) -> World:
    """Tenant A and its objects (made through the APIs where that is cheap),
    tenant B, and the callers."""
    from chalicelib.auth import api_key
    from chalicelib.domain.identity import principal_from_user
    from chalicelib.services.customers import accounts
    from chalicelib.services.identity import users
    from tests.support.surfaces.voice import TRUNK, EVENT_HOOK, account_ref, gateway

    made = users.create_tenant(name="Tenant A")
    tenant = made["tenant"]["id"]
    admin_user = made["user"]
    users.set_allowlist(tenant=tenant, user_id=admin_user["id"], ips=INSIDE)
    admin = principal_from_user(users.get_user(tenant=tenant, user_id=admin_user["id"]), tenant)
    x = accounts.create_customer(principal=admin, fields={"name": "Customer X", "creditLimit": "-100"})
    y = accounts.create_customer(principal=admin, fields={"name": "Customer Y", "creditLimit": "-100"})

    bearer = {"Authorization": f"Bearer {admin_user['api_key']}", "Content-Type": "application/json"}

    def platform(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(f"/backend/api/v1{path}", headers=bearer, body=json.dumps(body))
        assert answer.status_code in (200, 201), (path, answer.body)
        return dict(json.loads(answer.body))

    feature = platform(f"/customers/{x['id']}/features", {"name": "Call recording", "unitPrice": "1.5"})
    service = platform(f"/customers/{x['id']}/services", {"name": "SIP trunk", "quantity": 1, "unitPrice": "9.99"})
    note = platform(f"/customers/{x['id']}/notes", {"subject": "Call", "text": "about porting"})

    account = account_ref(admin, x)
    token = _voice_token(client, admin_user["username"], admin_user["password"])
    voice_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def voice(path: str, body: dict[str, Any]) -> str:
        answer = client.post(f"/api/v1/account/{account}{path}", headers=voice_headers, body=json.dumps(body))
        assert answer.status_code == 201, (path, answer.body)
        return str(json.loads(answer.body)["id"])

    trunk = voice("/trunk", TRUNK)
    hook = voice("/hook", EVENT_HOOK)
    device = voice("/device", gateway(trunk))

    from chalicelib.domain.voice import opaque_id

    staff = _user(tenant, "staff", allowlist=INSIDE, api_only=True)
    world = World(tenant=tenant, customer=x, other_customer=y, ids={
        "customer_id": str(x["id"]), "account_number": x["accountNumber"],
        "feature_id": str(feature["id"]), "service_id": str(service["id"]), "note_id": str(note["id"]),
        "user_id": str(staff["id"]),
        # Objects that take a whole flow to make (invoices, payments, uploads,
        # numbers, calls, greetings): an id of the right form; every caller
        # of the matrix must be refused before the object is looked up.
        "invoice_id": "1", "payment_id": "1", "attachment_id": "1", "upload_id": "1", "number_id": "1",
        "source_id": "1", "vm_greeting_id": "1",
        "account": account, "trunk": trunk, "hook": hook, "device": device,
        "call": opaque_id(tenant, "CALL", 1),
        "version": "v1",
    })

    other = users.create_tenant(name="Tenant B")
    users.set_allowlist(tenant=other["tenant"]["id"], user_id=other["user"]["id"], ips=INSIDE)
    bound = _user(tenant, "bound", allowlist=INSIDE, account_number=y["accountNumber"])
    read_only = _user(tenant, "reader", allowlist=INSIDE, can_write=False)
    api_only = _user(tenant, "machine", allowlist=INSIDE, api_only=True)
    outside = _user(tenant, "elsewhere", allowlist=OUTSIDE)
    revoked = _user(tenant, "revoked", allowlist=INSIDE)
    replaced = revoked["api_key"]
    users.issue_api_key(tenant=tenant, user_id=revoked["id"])  # the old key is revoked
    api_key.forget_all()  # as another process would see it: not from its own cache

    revoked_session = _logged_in(client, revoked, x["accountNumber"], key=replaced)
    logged_out = Portal(client)
    logged_out.cookie = revoked_session.cookie
    logged_out.post("/logout", {"csrf": revoked_session.csrf or ""}, csrf=False)
    # An API-only user cannot log in: what its login attempt leaves is a visitor's session.
    visitor = Portal(client)
    visitor.login(api_only["username"], api_only["api_key"], "000000")

    outside_session = _logged_in_outside(client, outside, x["accountNumber"])
    world.callers = {
        "no credential": Credentials(account=x["accountNumber"]),
        "another tenant": _logged_in(client, {**other["user"]}, x["accountNumber"]),
        "customer-bound user on another customer": _logged_in(client, bound, x["accountNumber"]),
        "read-only user writing": _logged_in(client, read_only, x["accountNumber"]),
        "API-only user where login is required": Credentials(
            api_key=api_only["api_key"], username=api_only["username"], password=api_only["api_key"],
            access_token=api_only["api_key"], cookie=visitor.cookie, account=x["accountNumber"]),
        "user outside its IP allow-list": outside_session,
        "revoked key": Credentials(api_key=replaced, username=revoked["username"], password=revoked["password"],
                                   cookie=revoked_session.cookie, csrf=revoked_session.csrf,
                                   account=x["accountNumber"]),
    }
    return world


def _logged_in_outside(client: Any, user: dict[str, Any], account: str) -> Credentials:
    """The portal and the voice API do not read allow-lists (their seeds have
    none): only the key and Digest credentials of this user matter."""
    return Credentials(api_key=user["api_key"], username=user["username"], password=user["password"],
                       account=account)


# ------------------------------------------------------------------ transports

def send(client: Any, surface: str, method: str, path: str, who: Credentials,
         fields: dict[str, Any] | None = None) -> Any:
    """One request of ``who`` to ``path`` in the way ``surface`` takes credentials;
    writes carry ``fields`` (else nothing) in a body of the surface's type."""
    fields = fields or {}
    writing = method not in ("GET", "HEAD", "DELETE", "OPTIONS")
    headers: dict[str, str] = {"Accept": "application/json"}
    body: str | None = None
    if surface == "carrier":
        params = {"accountno": who.account or ""}
        if who.api_key:
            params["token"] = who.api_key
        if method == "GET":
            return client.request(method, f"{path}?{urlencode(params)}", headers=headers)
        headers["Content-Type"] = "application/json"
        return client.request(method, path, headers=headers, body=json.dumps(params))
    if surface == "tracking":
        from tests.support.surfaces.tracking import Tracking

        if who.username is None:
            return client.request(method, path, headers={"Host": "tracking.test", **headers},
                                  body="" if writing else None)
        caller = Tracking(client, who.username, who.password or "")
        return caller.call(method, path, base="", data=fields if writing else None, headers=headers)
    if surface == "portal":
        headers = {"Accept": "text/html"}
        if who.cookie:
            headers["Cookie"] = who.cookie
        if writing:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode({**fields, **({"csrf": who.csrf} if who.csrf else {})})
        return client.request(method, path, headers=headers, body=body)
    credential = {"platform": who.api_key, "partner": who.api_key, "voice": who.access_token}[surface]
    if credential:
        if surface == "partner":
            headers["token"] = credential
        else:
            headers["Authorization"] = f"Bearer {credential}"
    if writing:
        headers["Content-Type"] = "application/json"
        body = json.dumps(fields)
    return client.request(method, path, headers=headers, body=body)


# ------------------------------------------------------------------ answers

def _envelope_platform(status: int, body: Any) -> bool:
    return isinstance(body, dict) and str(body.get("error_code", "")).startswith(str(status)) and "error" in body


def _envelope_partner(status: int, body: Any) -> bool:
    return isinstance(body, dict) and body.get("code") == status and {"error", "message"} <= set(body)


def _envelope_carrier(status: int, body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == str(status) and "error" in body


def _envelope_tracking(status: int, body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    return bool(errors) and errors[0].get("status") == str(status) and "message" in errors[0]


def _envelope_voice(status: int, body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == status and {"error", "message"} <= set(body)


ENVELOPES: dict[str, Callable[[int, Any], bool]] = {
    "platform": _envelope_platform, "partner": _envelope_partner, "carrier": _envelope_carrier,
    "tracking": _envelope_tracking, "voice": _envelope_voice}
# 429: a wrong password repeated past the sign-in limits (auth/attempts.py) is still a refusal.
REFUSED = {401, 403, 404, 429}


def refusal_problem(surface: str, kind: str, response: Any) -> str | None:
    """None when the answer is a refusal as the surface's document writes it."""
    status = response.status_code
    headers = {k.lower(): v for k, v in response.headers.items()}
    if surface == "portal":
        # No session (or a dead one): back to the login page; a form posted
        # without the session's CSRF token, or a session without the right: 403/404 pages.
        if status == 303 and headers.get("location") == "/portal/login":
            return None
        if status in (403, 404):
            return None if "text/html" in headers.get("content-type", "") else "not an HTML page"
        return f"{status} {headers.get('location', '')}"
    if status not in REFUSED or (kind == "no credential" and status != 401):
        return f"status {status}"
    try:
        body = json.loads(response.body)
    except ValueError:
        return f"status {status}, not JSON: {response.body[:120]!r}"
    return None if ENVELOPES[surface](status, body) else f"status {status}, not the envelope: {body}"


# ------------------------------------------------------------ stored state

def snapshot() -> dict[str, Any]:
    """Everything a refused request could have changed: every item of the
    tables that hold the business data (the audit table records requests),
    every object, every queued message count."""
    from chalicelib.store.clients import client

    ddb, s3, sqs = client("dynamodb"), client("s3"), client("sqs")
    state: dict[str, Any] = {}
    for table in ddb.list_tables()["TableNames"]:
        if table.endswith("-audit"):
            continue
        for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]:
            key = (table, item["PK"]["S"], item["SK"]["S"])
            if not _bookkeeping(item):
                state[str(key)] = {k: v for k, v in item.items() if k != "signInLockedUntil"}
    for bucket in s3.list_buckets()["Buckets"]:
        for entry in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            state[f"s3 {bucket['Name']}/{entry['Key']}"] = entry["ETag"]
    for url in sqs.list_queues().get("QueueUrls", []):
        state[f"sqs {url}"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return state


# What authentication itself writes, whoever calls: Digest nonce counts,
# portal sessions (a visitor's first), failed sign-in counters (and the lock
# they put on a user, dropped from the snapshot above).
_BOOKKEEPING = re.compile(r"^(DIGESTNC#|NONCE#|SESSION#|SIGNINFAIL#|THROTTLE#)")


def _bookkeeping(item: dict[str, Any]) -> bool:
    return bool(_BOOKKEEPING.match(item["PK"]["S"]))
