"""Bad input on every surface, over real HTTP: malformed and hostile bodies,
wrong types, money texts Python would read but the money grammar does not,
hostile ids and query parameters, each sent to every endpoint it applies to.
No answer may be a server error (5xx), and a refused write (4xx) must leave
the tenant's data as it was: the tenant's items in every table but the audit
log's, and its S3 objects, are compared before and after each refused write.
The writes of each surface's first endpoints get every input; the further
ones (updates, actions, attachments, orders, links) a sample of them, in
sweeps of their own (each value still reaches endpoints of every dialect,
and every raw body meets the one body parser anyway)."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.support.harness.runtime import LocalRuntime

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Items that move without any data changing: the id counter (a refused create
# may have reserved an id, a gap as sequences leave) and the digest nonces.
VOLATILE = ("#COUNTER", "NONCE")


# ---------------------------------------------------------------- the inputs

# Whole bodies, sent as they are (content type, bytes).
RAW_BODIES: list[tuple[str, str, bytes]] = [
    ("truncated JSON", "application/json", b'{"name": "a"'),
    ("trailing comma", "application/json", b'{"name": "a",}'),
    ("JSON array", "application/json", b'[{"name": "a"}]'),
    ("JSON string", "application/json", b'"name"'),
    ("JSON null", "application/json", b"null"),
    ("JSON number", "application/json", b"12"),
    ("NaN", "application/json", b'{"amount": NaN, "creditLimit": NaN}'),
    ("Infinity", "application/json", b'{"amount": Infinity, "creditLimit": -Infinity}'),
    ("nested 100k deep", "application/json", b"[" * 100_000),
    ("nested 40 deep in a field", "application/json", b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}"),
    ("not UTF-8", "application/json", b'{"name": "\xff\xfe\xfa"}'),
    ("UTF-16 with BOM", "application/json", '{"name": "a"}'.encode("utf-16")),
    ("UTF-8 BOM", "application/json", b'\xef\xbb\xbf{"name": "a"}'),
    ("raw NUL byte", "application/json", b'{"name": "a\x00b"}'),
    ("unpaired surrogate", "application/json", b'{"name": "a\\ud800", "text": "\\udfff"}'),
    ("empty body", "application/json", b""),
    ("whitespace body", "application/json", b" \r\n\t "),
    ("2 MB string", "application/json", b'{"name": "' + b"x" * 2_000_000 + b'", "text": "y"}'),
    ("exponent 1e999999", "application/json", b'{"amount": 1e999999, "creditLimit": 1e999999}'),
    ("400-digit integer", "application/json", b'{"amount": ' + b"9" * 400 + b', "creditLimit": 1}'),
    ("10,000 keys", "application/json", json.dumps({f"k{n}": n for n in range(10_000)}).encode()),
    ("duplicate JSON keys", "application/json", b'{"name": "a", "name": "b", "amount": "1", "amount": "2"}'),
    ("JSON as text/plain", "text/plain", b'{"name": "a"}'),
    ("XML", "application/xml", b"<customer><name>a</name></customer>"),
    ("multipart without boundary", "multipart/form-data", b"--x\r\n\r\n"),
    ("multipart garbage", "multipart/form-data; boundary=zz", b"garbage with no boundary at all"),
    ("multipart unterminated", "multipart/form-data; boundary=zz",
     b'--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nunterminated'),
    ("form with bad escapes", "application/x-www-form-urlencoded", b"name=%ZZ%&amount=%"),
    ("form not UTF-8", "application/x-www-form-urlencoded", b"name=%FF%FE&text=%C0%AF"),
    ("form with 5000 fields", "application/x-www-form-urlencoded", "&".join(f"f{n}=1" for n in range(5000)).encode()),
    ("unknown content type", "application/x-made-up", b"\x00\x01\x02"),
    ("gzip claimed, not gzip", "application/json", b'{"name": "a"}'),  # sent with Content-Encoding: gzip
]

# Values put into one field of an otherwise plausible body ("money", "text" or "id" fields).
MONEY_VALUES: list[tuple[str, Any]] = [
    ("underscore 1_000", "1_000"), ("spaces ' 5 '", " 5 "), ("exponent 1e3", "1e3"), ("NaN text", "NaN"),
    ("Infinity text", "Infinity"), ("hex 0x10", "0x10"), ("six decimals", "1.123456"),
    ("Arabic-Indic digits", "\u0661\u0662\u0663"), ("fullwidth digits", "\uff11\uff12\uff13"),
    ("10^30", "1" + "0" * 30), ("-10^30", "-1" + "0" * 30), ("boolean", True), ("list", [1]),
    ("object", {"value": 1}), ("comma decimal", "1,50"), ("currency sign", "$5"), ("plus sign", "+5"),
    ("lone point", "."), ("two points", "1.2.3"), ("float 1e-7", 1e-7),
]
TEXT_VALUES: list[tuple[str, Any]] = [
    ("number for text", 123), ("null for text", None), ("CR/LF", "a\r\nSet-Cookie: x=1"), ("NUL", "a\x00b"),
    ("100k characters", "z" * 100_000), ("RTL override", "abc\u202edcba"), ("zero-width and combining", "a\u200d\u0301\u0301b"),
    ("4-byte emoji", "\U0001F600\U0001F4A9"), ("path traversal", "../../../etc/passwd"),
    ("markup", "<script>alert(1)</script>"), ("percent NUL", "%00"), ("SQL-ish", "' OR 1=1 --"),
    ("only spaces", "   "), ("control characters", "\x07\x08\x1b[31m"),
]
SHAPES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    ("missing every field", lambda fields: {}),
    ("unknown field", lambda fields: {**fields, "bogusField": "1", "__proto__": {"x": 1}}),
]
BAD_IDS = ["-1", "0", "99999999999999999999", "abc", "1.5", "1e3", "%00", "%0d%0a", "%D9%A1", "+1", "%201",
           "00000000000001", "%2e%2e", "1;DROP"]
BAD_QUERIES = ["limit=-1", "limit=abc", "limit=1000000000", "idAfter=-5", "offset=abc", "offset=-1",
               "updatedSince=yesterday", "updatedSince=0001-01-01T00:00:00%2B01:00", "since=0001-01-01T00:00:00Z",
               "until=9999-12-31T23:59:59-01:00", "limit=1&limit=2", "page=-1", "page=abc", "expand=%00",
               "from=2026-13-45", "to=abc", "number=%0d%0a", "accountno[]=1", "a=" + "b" * 6000]


# ---------------------------------------------------------------- the surfaces

@dataclass
class Target:
    """One endpoint: how to send fields to it and which of them hold money or text."""

    method: str
    path: str
    fields: dict[str, Any]
    money: str | None = None
    text: str | None = None
    form: bool = False  # the dialect's usual body is a form (values as text)
    query: dict[str, str] = field(default_factory=dict)  # always sent (credentials of the query dialect)
    sampled: bool = False  # every RAW_SAMPLE-th raw body and VALUE_SAMPLE-th field value only


# Every refused write scans the tenant's data twice over: the further endpoints
# get a sample, in sweeps of their own (SURFACE+) that xdist can run beside the rest.
RAW_SAMPLE = 8
VALUE_SAMPLE = 3


@dataclass
class Surface:
    name: str
    base: str
    headers: dict[str, str]
    auth: Any
    writes: list[Target]
    id_paths: list[tuple[str, str]]  # (method, path with {id})
    lists: list[str]
    tenant: str | None = None  # whose data a refused write must leave alone (the shop's when None)


@dataclass
class World:
    runtime: LocalRuntime
    tenant: str
    surfaces: dict[str, Surface]
    findings: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    # The last snapshot taken, still true if nothing was accepted since: one scan per write, not two.
    known: dict[str, dict[tuple[str, str, str], Any]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(runtime: LocalRuntime) -> World:
    from tests.support.surfaces.carrier import landlines, make_shop

    with runtime.environment():
        from chalicelib.services.identity import users

        shop = make_shop(landlines("206555", 10))
        # Digest needs a password, which the shop's administrator is not given back: a tenant of its own.
        tracker = users.create_tenant(name="Bad Input Tracking")
        from chalicelib.auth import api_key

        # The partner API admits a key only from an address on its user's allow-list.
        shop_admin = api_key.authenticate(shop.admin_key, None)
        users.set_allowlist(tenant=shop.tenant, user_id=shop_admin.user_id, ips=["127.0.0.1"])
    key = shop.admin_key
    customer, account = shop.customer_ids[0], shop.accounts[0]
    base = runtime.base_url
    made = _made(base, key, customer, account)
    platform = Surface(
        "platform", base + "/backend/api/v1", {"Authorization": f"Bearer {key}"}, None,
        writes=[
            Target("POST", "/customers", {"name": "Bad Input Co", "creditLimit": "10"}, money="creditLimit", text="name"),
            Target("PATCH", f"/customers/{customer}", {"creditLimit": "5"}, money="creditLimit", text="name"),
            Target("POST", f"/customers/{customer}/notes", {"text": "a note"}, text="text"),
            Target("POST", f"/customers/{customer}/services", {"name": "svc", "price": "1.00"}, money="price",
                   text="name"),
            Target("POST", f"/customers/{customer}/numbers", {"number": "+12065550001"}, text="number"),
            Target("PATCH", f"/services/{made['service']}", {"unitPrice": "2"}, money="unitPrice", text="name",
                   sampled=True),
            Target("PATCH", f"/features/{made['feature']}", {"unitPrice": "2"}, money="unitPrice", text="name",
                   sampled=True),
            Target("PATCH", f"/notes/{made['note']}", {"text": "edited"}, text="text", sampled=True),
            Target("POST", f"/services/{made['service']}?action=approve", {"dateApproved": "2026-01-02"},
                   text="statusReason", sampled=True),
            Target("POST", f"/features/{made['feature']}?action=drop", {"dateDrop": "2026-01-02"},
                   text="statusReason", sampled=True),
            Target("POST", f"/numbers/{made['number']}?action=drop", {"dateDrop": "2026-01-02"},
                   text="statusReason", sampled=True),
            Target("POST", f"/customers/{shop.customer_ids[1]}?action=drop", {"dateDrop": "2026-01-02"},
                   text="statusReason", sampled=True),
            Target("POST", f"/notes/{made['note']}/noteAttachments",
                   {"fileName": "a.txt", "_fileContent": base64.b64encode(b"hello").decode()}, text="fileName",
                   sampled=True),
            Target("POST", f"/notes/{made['note']}/noteAttachmentUploads",
                   {"fileName": "b.bin", "_fileSize": 10, "_fileHash": "0" * 40}, text="fileName", sampled=True),
        ],
        id_paths=[("GET", "/customers/{id}"), ("GET", "/customers/{id}/notes"), ("POST", "/customers/{id}/notes"),
                  ("GET", "/notes/{id}/noteAttachments"), ("GET", "/invoices/{id}"), ("PATCH", "/customers/{id}")],
        lists=["/customers", "/numbers", "/requestLogs", "/notes", "/payments"],
    )
    credentials = {"token": key, "accountno": account}
    carrier = Surface(
        "carrier", base + "/carrier", {}, None,
        writes=[
            Target("POST", "/make_payment", {"amount": "5", "cardnumber": "4111111111111111", "expmonth": "12",
                                             "expyear": "2030", "cvv": "123"}, money="amount", text="firstname",
                   form=True, query=credentials),
            Target("POST", "/reserve", {"number": "2065550001"}, text="number", form=True, query=credentials),
            Target("POST", "/updatenumber", {"number": "2065550001", "notes": "x"}, text="notes", form=True,
                   query=credentials),
            Target("POST", "/defineTrunk", {"trunkname": "t1", "ip": "192.0.2.1"}, text="trunkname", form=True,
                   query=credentials),
            Target("POST", "/bulkreserve", {"category": "landline", "quantity": "1", "state": "WA"}, text="city",
                   form=True, query=credentials, sampled=True),
            Target("POST", "/remove_reserved", {"reserveId": made["cart"]}, text="number", form=True,
                   query=credentials, sampled=True),
            Target("POST", "/gen_order", {"reserveId": made["cart"], "trunk_id": made["trunk"]}, text="reserveId",
                   form=True, query=credentials, sampled=True),
            Target("POST", "/update_trunk", {"trunkid": made["trunk"], "primaryPort": "5070"}, text="title",
                   form=True, query=credentials, sampled=True),
            Target("POST", "/generate_lnp_order", {"numbers": "5035550100", "category": "landline",
                                                   "subscriberType": "residential", "loaAuthorizingPerson": "A B"},
                   text="loaAuthorizingPerson", form=True, query=credentials, sampled=True),
        ],
        id_paths=[("GET", "/getnumbers?token=" + key + "&accountno={id}"),
                  ("POST", "/gen_order?token=" + key + f"&accountno={account}&reserveId={{id}}&trunk_id=1")],
        lists=["/getnumbers?token=" + key + f"&accountno={account}",
               "/get_invoices?token=" + key + f"&accountno={account}",
               "/daily_cdrs?token=" + key + f"&accountno={account}"],
    )
    partner = Surface(
        "partner", base + "/partner/api/v1", {"token": key}, None,
        writes=[
            # test-pass: the only token the local captcha verifier accepts, so the inputs reach validation.
            Target("PUT", "/funds", {"account_number": account, "amount": "1.00", "google_captcha": "test-pass"},
                   money="amount", text="description", form=True),
            Target("POST", "/customers", {"name": "P", "email": "p@example.com", "google_captcha": "test-pass"},
                   text="name", form=True),
            Target("POST", "/password", {"code": "x.y", "password": "long enough password"}, text="code", form=True),
            Target("POST", f"/customers/{account}/login-url", {"google_captcha": "test-pass"},
                   text="google_captcha", form=True, sampled=True),
            Target("POST", f"/customers/{account}/confirm-email", {"google_captcha": "test-pass", "code": "x.y"},
                   text="code", form=True, sampled=True),
            Target("POST", f"/customers/{account}/reset-password", {"google_captcha": "test-pass"},
                   text="google_captcha", form=True, sampled=True),
        ],
        id_paths=[("GET", "/customers/{id}/balance"), ("POST", "/customers/{id}/login-url")],
        lists=["/balance"],
    )
    tracking = Surface(
        "tracking", base + "/tracking/v1", {}, HTTPDigestAuth(tracker["user"]["username"], tracker["user"]["password"]),
        writes=[
            Target("POST", "/customers.json", {"name": "T Co"}, text="name", form=True),
            Target("PUT", "/customers/1.json", {"name": "T Co"}, text="name", form=True),
            Target("POST", "/customers/1/sources.json", {"name": "src"}, text="name", form=True),
        ],
        id_paths=[("GET", "/customers/{id}.json"), ("PUT", "/customers/{id}.json"),
                  ("GET", "/customers/{id}/sources.json")],
        lists=["/customers.json", "/statistics/cdrs.json", "/custom_fields.json"],
        tenant=tracker["tenant"]["id"],
    )
    login = requests.post(base + "/api/v1/oauth/authorize", timeout=30,
                          data={"username": tracker["user"]["username"], "password": tracker["user"]["password"]})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    with runtime.environment():
        from chalicelib.services.customers import accounts
        from chalicelib.domain.identity import principal_from_user

        tracker_admin = principal_from_user(users.get_user(tenant=tracker["tenant"]["id"], user_id=tracker["user"]["id"]),
                                            tracker["tenant"]["id"])
        accounts.create_customer(principal=tracker_admin, fields={"name": "Voice Account"})
    voice_account = requests.get(base + "/api/v1/account", headers=bearer, timeout=30).json()[0]["id"]
    voice = Surface(
        "voice", base + "/api/v1", bearer, None,
        writes=[
            Target("POST", f"/account/{voice_account}/device", {"type": "flow", "name": "d"}, text="name"),
            Target("POST", f"/account/{voice_account}/hook", {"url": "https://example.com/h", "events": ["call"]},
                   text="url"),
            Target("PUT", f"/account/{voice_account}/address", {"line1": "1 Main St", "city": "Seattle"},
                   text="line1"),
        ],
        id_paths=[("GET", "/account/{id}"), ("GET", "/account/{id}/device"), ("POST", "/account/{id}/device"),
                  ("GET", f"/account/{voice_account}/device/{{id}}"), ("DELETE", f"/account/{voice_account}/hook/{{id}}")],
        lists=["/account", f"/account/{voice_account}/ddi", f"/account/{voice_account}/channels/voice"],
        tenant=tracker["tenant"]["id"],
    )
    surfaces = [platform, carrier, partner, tracking, voice]
    for surface in (platform, carrier, partner):  # the sampled endpoints, a sweep of their own
        surfaces.append(Surface(surface.name + "+", surface.base, surface.headers, surface.auth,
                                [t for t in surface.writes if t.sampled], [], []))
        surface.writes = [t for t in surface.writes if not t.sampled]
    return World(runtime, shop.tenant, {s.name: s for s in surfaces})


def _made(base: str, key: str, customer: int, account: str) -> dict[str, Any]:
    """What the further writes name: a service, a feature, a note and a number
    of the customer (billing API), an origination trunk and an Order Cart of
    the account (carrier API)."""
    bearer = {"Authorization": f"Bearer {key}"}

    def create(path: str, body: dict[str, Any]) -> Any:
        answer = requests.post(f"{base}/backend/api/v1{path}", json=body, headers=bearer, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def carrier(name: str, **fields: str) -> dict[str, Any]:
        answer = requests.post(f"{base}/carrier/{name}", data={"token": key, "accountno": account, **fields},
                               timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    made = {"service": create(f"/customers/{customer}/services", {"name": "svc", "unitPrice": "1.00"}),
            "feature": create(f"/customers/{customer}/features", {"name": "feat", "unitPrice": "1.00"}),
            "note": create(f"/customers/{customer}/notes", {"text": "a note"}),
            "number": create(f"/customers/{customer}/numbers", {"number": "+12065550009"})}
    made["trunk"] = carrier("defineTrunk", title="t", primaryTrunk="203.0.113.10", primaryPrefix="1234",
                            primaryPort="5060", billingType="Unmetered", sessions="2", mou="Unlimited")["tg_id"]
    made["cart"] = carrier("bulkreserve", category="landline", state="WA", quantity="1")["reserveId"]
    return made


def _client(world: World, service: str) -> Any:
    import boto3

    env = world.runtime.env
    return boto3.client(service, endpoint_url=env[f"AWS_ENDPOINT_URL_{service.upper()}"],
                        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
                        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "x"),
                        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "x"))


def snapshot(world: World, tenant: str) -> dict[tuple[str, str, str], Any]:
    """The tenant's items in every table but the audit log's, by (table, PK, SK),
    and its S3 objects (pending uploads included), by (bucket, key, "")."""
    client = _client(world, "dynamodb")
    items: dict[tuple[str, str, str], Any] = {}
    s3 = _client(world, "s3")
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for prefix in (f"tenants/{tenant}/", f"pending/tenants/{tenant}/"):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for found in page.get("Contents", []):
                    items[(f"s3:{bucket}", found["Key"], "")] = (found["ETag"], found["Size"])
    mark = f"#{tenant}#"
    for table in client.list_tables()["TableNames"]:
        if "audit" in table:
            continue
        # Filtered by DynamoDB Local: the session's shared runtime holds every other
        # test's data too, and parsing all of it on every write took minutes.
        for page in client.get_paginator("scan").paginate(
                TableName=table, FilterExpression="contains(PK, :mark) OR begins_with(PK, :start) OR tenantId = :t",
                ExpressionAttributeValues={":mark": {"S": mark}, ":start": {"S": f"{tenant}#"}, ":t": {"S": tenant}}):
            for item in page["Items"]:
                pk, sk = item["PK"].get("S", ""), str(item.get("SK", {}).get("S", item.get("SK", {}).get("N", "")))
                if (mark in f"#{pk}" or item.get("tenantId", {}).get("S") == tenant) \
                        and not any(v in pk or v in sk for v in VOLATILE):
                    items[(table, pk, sk)] = item
    return items


def send(world: World, surface: Surface, method: str, path: str, *, body: bytes | None = None,
         content_type: str | None = None, headers: dict[str, str] | None = None, label: str) -> None:
    """One request; a 5xx, or a refused write that changed data, is a finding."""
    all_headers = {**surface.headers, **(headers or {})}
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    tenant = surface.tenant or world.tenant
    before = (world.known.pop(tenant, None) or snapshot(world, tenant)) if method in WRITES else None
    try:
        answer = requests.request(method, surface.base + path, data=body, headers=all_headers, auth=surface.auth,
                                  timeout=60)
    except requests.RequestException as error:
        world.findings.append(f"{surface.name} {label}: {method} {path[:120]} -> no answer ({error})")
        return
    world.statuses[answer.status_code] = world.statuses.get(answer.status_code, 0) + 1
    if answer.status_code >= 500:
        world.findings.append(f"{surface.name} {label}: {method} {path[:120]} -> {answer.status_code} "
                              f"{answer.text[:200]}")
    if before is not None and 400 <= answer.status_code < 500:
        after = snapshot(world, tenant)
        world.known[tenant] = after
        if after != before:
            changed = sorted({k for k in set(before) | set(after) if before.get(k) != after.get(k)})
            world.findings.append(f"{surface.name} {label}: {method} {path[:120]} -> {answer.status_code} "
                                  f"but changed {changed[:5]}")


def encode(target: Target, fields: dict[str, Any]) -> tuple[bytes, str]:
    if target.form:
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        return urlencode(flat).encode(), "application/x-www-form-urlencoded"
    return json.dumps(fields).encode(), "application/json"


def with_query(target: Target) -> str:
    return target.path + ("?" + urlencode(target.query) if target.query else "")


def bodies(target: Target) -> Iterator[tuple[str, bytes, str, dict[str, str]]]:
    for label, content_type, raw in RAW_BODIES[::RAW_SAMPLE] if target.sampled else RAW_BODIES:
        extra = {"Content-Encoding": "gzip"} if label.startswith("gzip") else {}
        yield label, raw, content_type, extra
    for kind, name, values in (("money", target.money, MONEY_VALUES), ("text", target.text, TEXT_VALUES)):
        for label, value in (values[::VALUE_SAMPLE] if target.sampled else values) if name else []:
            yield (f"{kind} {label}", *encode(target, {**target.fields, str(name): value}), {})
    for label, shape in SHAPES:
        yield (label, *encode(target, shape(target.fields)), {})
    if target.form:
        raw, content_type = encode(target, target.fields)
        yield "duplicated form fields", raw + b"&" + raw.replace(b"=", b"=9"), content_type, {}
        yield "form sent as JSON type", raw, "application/json", {}


SURFACES = ["platform", "carrier", "partner", "tracking", "voice"]


@pytest.mark.parametrize("name", [*SURFACES, "platform+", "carrier+", "partner+"])
def test_bad_bodies_are_refused_without_a_server_error_or_a_change(world: World, name: str) -> None:
    surface = world.surfaces[name]
    world.findings.clear()
    world.statuses.clear()
    sent = 0
    for target in surface.writes:
        for label, raw, content_type, extra in bodies(target):
            send(world, surface, target.method, with_query(target), body=raw, content_type=content_type,
                 headers=extra, label=label)
            sent += 1
    assert not world.findings, "\n".join(world.findings)
    assert sent >= sum(10 if target.sampled else 45 for target in surface.writes)
    # The caller got past authentication: the inputs reached the endpoints' own checks.
    assert sum(n for status, n in world.statuses.items() if status not in (401, 403)) > sent // 2, world.statuses


@pytest.mark.parametrize("name", SURFACES)
def test_bad_ids_and_queries_are_refused_without_a_server_error(world: World, name: str) -> None:
    surface = world.surfaces[name]
    world.findings.clear()
    for method, template in surface.id_paths:
        for bad in BAD_IDS:
            path = template.replace("{id}", bad)
            send(world, surface, method, path, body=b"" if method in WRITES else None, label=f"id {bad}",
                 content_type="application/x-www-form-urlencoded" if method in WRITES else None)
    for path in surface.lists:
        for query in BAD_QUERIES:
            send(world, surface, "GET", path + ("&" if "?" in path else "?") + query, label=f"query {query[:40]}")
    assert not world.findings, "\n".join(world.findings)


def test_hostile_headers_are_refused_without_a_server_error(world: World) -> None:
    world.findings.clear()
    hostile = [
        {"Authorization": "Bearer \u00e9\u00e9"}, {"Authorization": "Digest response=\"\u00e9\", nonce=\"\u00ff\""},
        {"Authorization": "Digest " + "a=b, " * 2000}, {"token": "\u00ff" * 10}, {"Accept": "application/xml;q=abc"},
        {"Accept-Encoding": "gzip;q=x"}, {"X-HTTP-Method-Override": "TRACE"}, {"Content-Length": "0"},
        {"Idempotency-Key": "\u00e9" * 300},
    ]
    for surface in (world.surfaces[name] for name in SURFACES):
        path = surface.lists[0]
        for headers in hostile:
            plain = Surface(surface.name, surface.base, {}, None, [], [], [], surface.tenant)
            send(world, plain, "GET", path, headers={k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()},
                 label=f"header {list(headers)[0]}")
            send(world, plain, "POST", surface.writes[0].path, body=b"{}", content_type="application/json",
                 headers={k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()},
                 label=f"header {list(headers)[0]} on a write")
    assert not world.findings, "\n".join(world.findings)


def test_the_suite_sends_at_least_sixty_kinds_of_bad_input() -> None:
    kinds = len(RAW_BODIES) + len(MONEY_VALUES) + len(TEXT_VALUES) + len(SHAPES) + 2 + len(BAD_IDS) + len(BAD_QUERIES)
    assert kinds >= 60

