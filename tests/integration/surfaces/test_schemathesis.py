"""Every surface against its own OpenAPI document, on the local runtime:
schemathesis generates requests for each operation from the document served
at <surface>/openapi.json (a bounded number per operation, derandomized so a
run is repeatable) and each answer must be no server error (5xx), have a
documented status code and content type, match the document's response
schema, accept what the document calls valid and refuse what it calls
invalid. The caller is a tenant administrator (the surface's own credential,
from an allow-listed address, as the partner API requires), so requests get
past authentication; the carrier run names the tenant's real accounts."""
from __future__ import annotations

import itertools
import uuid
from collections import Counter
from typing import Any, Callable

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from requests.auth import HTTPDigestAuth
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance, response_schema_conformance,
                                               status_code_conformance)

from chalicelib.api.tracking.openapi import spec as tracking_spec
from tests.support.harness.tenants import create_tenant
from tests.support.harness.runtime import LocalRuntime

# Enough to reach each operation's parameters and bodies; the five runs stay
# within a couple of minutes on two cores.
POSITIVE = settings(max_examples=4, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
NEGATIVE = settings(POSITIVE, max_examples=2)
BASIC = [not_a_server_error, response_schema_conformance]
CHECKS = [*BASIC, status_code_conformance, content_type_conformance, negative_data_rejection, positive_data_acceptance]

# Checks left out for one operation (surface prefix, operation label), with why:
# each a false positive, a rule the document states in words that OpenAPI 3.0
# cannot express, so valid-looking generated data is rightly refused.
ONE_TIME_CODE = ("a one-time code cannot be generated: every code schemathesis makes is unknown, refused 400 "
                 "invalid_link as documented")
ACTION = ("which body parameters an action needs depends on ?action= (said in the body's description): OpenAPI "
          "3.0 cannot make a body field required by a query value; an upload's complete also needs the upload done")
EXCLUDED: dict[tuple[str, str], dict[str, str]] = {
    ("/backend/api/v1", "POST /notes/{id}"): {
        "positive_data_acceptance": "notes have no action: every ?action= is refused 400501, as documented"},
    **{("/backend/api/v1", f"POST /{plural}/{{id}}"): {"positive_data_acceptance": ACTION} for plural in (
        "customers", "services", "features", "numbers", "users", "noteAttachmentUploads")},
    **{("/partner/api/v1", label): {"positive_data_acceptance": ONE_TIME_CODE} for label in (
        "GET /session", "POST /session", "POST /password", "POST /customers/{account_number}/confirm-email")},
    # Call tracking describes every method of a resource, those it does not offer too (their 405 with Allow):
    # nothing sent to one is accepted, however valid.
    **{("/tracking/v1", f"{method.upper()} {path}"): {"positive_data_acceptance": "a method the resource does "
                                                      "not offer: every request is 405 with Allow, as documented"}
       for path, item in tracking_spec()["paths"].items() for method, operation in item.items()
       if method != "parameters" and operation["summary"] == "Not offered by this resource."},
    **{("/tracking/v1", f"POST {path}"): {"positive_data_acceptance": (
        "a source belongs to a customer named by ?customer_id or the body's customer_id (either place, which "
        "OpenAPI 3.0 cannot require), and takes a number from the tenant's inventory (none is stocked here)")}
       for path in ("/sources", "/customers/sources")},
    **{("/tracking/v1", f"POST {path}"): {"positive_data_acceptance": (
        "an upload is checked by its content (WAV or MP3), which a schema cannot say; without {customer_id} in "
        "the path the customer is ?customer_id or the body's (either place)")}
       for path in ("/customers/voicemail_greetings", "/customers/{customer_id}/voicemail_greetings")},
}


@pytest.fixture(scope="module")
def caller(runtime: LocalRuntime) -> dict[str, Any]:
    """A tenant administrator allowed from this machine's address, a funded
    partner wallet, and a customer account (the carrier and partner calls name it)."""
    made = create_tenant(runtime, "Schemathesis Tenant")
    tenant, user = made["tenant"]["id"], made["user"]
    with runtime.environment():
        from chalicelib.domain.identity import principal_from_user
        from chalicelib.services.customers import accounts
        from chalicelib.services.identity import users
        from chalicelib.services.money import statements

        # The partner API admits a key only from an address on its user's allow-list.
        users.set_allowlist(tenant=tenant, user_id=user["id"], ips=["127.0.0.1"])
        admin = principal_from_user(users.get_user(tenant=tenant, user_id=user["id"]), tenant)
        # Funds can move either way (PUT /funds) without meeting a credit limit: the wallet is funded and the
        # customer's limit is far below zero.
        account = accounts.create_customer(principal=admin, fields={
            "name": "Schemathesis Customer", "creditLimit": "-100000000000000"})["accountNumber"]

        statements.adjust_balance(tenant=tenant, account_number=None, amount="100000000000000",
                                  reason="schemathesis funds", idempotency_key=None)
    return {"key": user["api_key"], "user": user["username"], "password": user["password"], "account": account}


LONDON = itertools.count(1_234_567)  # valid UK numbers: +44 20 7xxx xxxx


def _fresh_idempotency_key(case: Any) -> None:
    """A generated Idempotency-Key repeats ("", "0") across cases with other
    parameters, which the document says is refused (422): a valid case is a
    new request, with a key of its own."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


def _findings(runtime: LocalRuntime, prefix: str, statuses: Counter[int], *, checks: list[Any] = CHECKS,
              adjust: Callable[[Any], None] | None = None, **call: Any) -> list[str]:
    """Every operation of the surface's served document, a few generated cases
    each (valid ones, then ones the document says are invalid); one line per
    distinct failure (operation, check, status). ``statuses`` counts the answers."""
    schema = schemathesis.openapi.from_url(f"{runtime.base_url}{prefix}/openapi.json")
    found: dict[tuple[str, str, int], str] = {}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            excluded = EXCLUDED.get((prefix, operation.label), {})
            kept = [check for check in checks if check.__name__ not in excluded]
            for mode, examples in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):
                _examine(operation, mode, examples, runtime.base_url + prefix, session, call, kept, adjust,
                         found, statuses)
    return sorted(found.values())


def _examine(operation: Any, mode: GenerationMode, examples: settings, base_url: str, session: requests.Session,
             call: dict[str, Any], checks: list[Any], adjust: Callable[[Any], None] | None,
             found: dict[tuple[str, str, int], str], statuses: Counter[int]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @examples
    def examine(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            _fresh_idempotency_key(case)
            if adjust is not None:
                adjust(case)
        response = case.call(base_url=base_url, session=session, timeout=30, **call)
        statuses[response.status_code] += 1
        for check in checks:  # one at a time: a finding names its check
            try:
                case.validate_response(response, checks=[check])
            except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup naming what failed
                title = str(failure).strip().splitlines()[0][:120]
                key = (operation.label, f"{check.__name__}: {title}", response.status_code)
                found.setdefault(key, f"{operation.label} [{mode}] {check.__name__} -> {response.status_code}: "
                                      f"{title}\n    {case.method} {response.request.url} "
                                      f"body={str(case.body)[:200]!r}\n    answer: {response.text[:300]!r}")

    try:
        examine()
    except Unsatisfiable:
        pass  # nothing in the operation can be made invalid (no parameters, no body)


def _assert_reached(statuses: Counter[int]) -> None:
    """The caller got past authentication: most answers are not 401/403."""
    authenticated = sum(n for status, n in statuses.items() if status not in (401, 403))
    assert authenticated > sum(statuses.values()) // 2, dict(statuses)


def test_platform(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    def consistent(case: Any) -> None:
        """What the document says in words, not in schema: offest is offset
        (both given must agree), a body's customerID is the path's, and a
        staff user id must exist (none can be generated: cleared instead)."""
        if case.query and "offset" in case.query and "offest" in case.query:
            case.query["offest"] = case.query["offset"]
        if isinstance(case.body, dict):
            if "name" in case.body and "customerName" in case.body:  # "name: = customerName"
                case.body["name"] = case.body["customerName"]
            for name, value in case.body.items():
                # A JSON amount has at most five decimals, which OpenAPI 3.0 can only say with
                # multipleOf: generators fill that with binary floats (3.0000000000000004e-05).
                if isinstance(value, float):
                    case.body[name] = round(value, 5)
            if isinstance(case.body.get("data"), str) and "file" in case.body:  # multipart: "data" is JSON
                case.body["data"] = "{}"
            number = case.body.get("number")
            if isinstance(number, str) and number.strip().startswith("+") and not number.strip().startswith("+1"):
                # The pattern gives E.164's shape; whether the country assigns the number it cannot say.
                case.body["number"] = f"+44207{next(LONDON):07d}"
            if "customerID" in case.body and "customerId" in (case.path_parameters or {}):
                case.body["customerID"] = case.path_parameters["customerId"]
            for staff in ("accountManagerID", "commissionHolderID"):
                if staff in case.body:
                    case.body[staff] = None

    statuses: Counter[int] = Counter()
    findings = _findings(runtime, "/backend/api/v1", statuses, adjust=consistent,
                         headers={"Authorization": f"Bearer {caller['key']}"})
    assert not findings, "\n".join(findings)
    _assert_reached(statuses)


def test_carrier(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    def real_account(case: Any) -> None:
        """A generated accountno never exists (every call would be 'Invalid
        accountno'): valid cases name the tenant's customer, and a generated
        body token (which wins over the header) is the caller's key."""
        for values in (case.query, case.body):
            if isinstance(values, dict):
                if "accountno" in values:
                    values["accountno"] = caller["account"]
                if "token" in values:
                    values["token"] = caller["key"]

    statuses: Counter[int] = Counter()
    findings = _findings(runtime, "/carrier", statuses, adjust=real_account, headers={"token": caller["key"]})
    assert not findings, "\n".join(findings)
    _assert_reached(statuses)
    assert statuses[200] > 0, dict(statuses)


def test_partner(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    def answerable(case: Any) -> None:
        """The local captcha verifier passes only test-pass, and a generated
        account number never exists: valid cases send the one and name the
        tenant's customer. A period starts before it ends."""
        if case.query and {"initial_date", "final_date"} <= set(case.query):
            case.query["initial_date"], case.query["final_date"] = sorted(
                (case.query["initial_date"], case.query["final_date"]))
        for values in (case.path_parameters, case.body):
            if isinstance(values, dict):
                if "google_captcha" in values:
                    values["google_captcha"] = "test-pass"
                if "account_number" in values:
                    values["account_number"] = caller["account"]

    statuses: Counter[int] = Counter()
    findings = _findings(runtime, "/partner/api/v1", statuses, adjust=answerable, headers={"token": caller["key"]})
    assert not findings, "\n".join(findings)
    _assert_reached(statuses)


def test_voice(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    login = requests.post(runtime.base_url + "/api/v1/oauth/authorize", timeout=30,
                          data={"username": caller["user"], "password": caller["password"]})
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    accounts = requests.get(runtime.base_url + "/api/v1/account", headers=bearer, timeout=30).json()
    account = next(a["id"] for a in accounts if a["name"] == "Schemathesis Customer")
    public = itertools.count(1)

    def reachable(case: Any) -> None:
        """A generated account id never exists: valid cases name the tenant's
        customer, except where a body names the account's devices, trunks,
        hooks, DDIs or caller ids (devices, calls, the simulator), which
        generated ids never are; those keep the generated account and so
        still meet the body's checks (made before the account is looked up).
        And what the document says in words, not in schema: a hook's host
        must resolve to a public address (a loopback receiver is allowed on
        the local runtime), a trunk's address must be public, a time range
        ends after it starts, and a tag's keys have 1-64 characters."""
        references = case.method in ("POST", "PUT") and any(
            part in case.path for part in ("/device", "/channels/voice", "/simulator"))
        if case.path_parameters and "id" in case.path_parameters and not references:
            case.path_parameters["id"] = account
        if not isinstance(case.body, dict):
            return
        tag = case.body.get("tag")
        if isinstance(tag, dict) and isinstance(tag.get("data"), dict):  # keys of 1-64: 3.0 has no propertyNames
            tag["data"] = {f"k{n}": value for n, value in enumerate(tag["data"].values())}
        if isinstance(case.body.get("url"), str) and "app" in case.body:
            case.body["url"] = "http://127.0.0.1:9/schemathesis"
        if isinstance(case.body.get("ip"), str):
            case.body["ip"] = f"81.2.69.{next(public) % 250 + 1}"
        for entry in (case.body.get("timeSwitch") or {}).get("ranges") or []:
            if isinstance(entry, dict):
                entry["start"], entry["end"] = "09:00", "17:30"

    statuses: Counter[int] = Counter()
    findings = _findings(runtime, "/api/v1", statuses, adjust=reachable, headers=bearer)
    assert not findings, "\n".join(findings)
    _assert_reached(statuses)
    assert statuses[201] > 0 and statuses[204] > 0, dict(statuses)


def test_tracking(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    class DigestWhereAuthorized(HTTPDigestAuth):
        """Digest credentials for a request that carries the placeholder
        Authorization header; a negative case that leaves the header out
        (schemathesis removes it) goes without credentials, as generated, and is
        answered 401 (HTTPDigestAuth alone would answer the challenge for it)."""

        def __call__(self, request: Any) -> Any:
            if "Authorization" not in request.headers:
                return request
            del request.headers["Authorization"]
            return super().__call__(request)

    created_id = {"customers": "customer_id", "sources": "source_id", "voicemail_greetings": "vm_greeting_id"}

    def valid(case: Any) -> None:
        """What the document says in words, not in schema: a POST to a resource
        without a POST of its own stands for the method its _method names (plain,
        it is 405), and which parameters a POST needs depends on the method it
        stands for (a create is sent as one); an id is given once, the path's
        winning over the same id in the body; custom_N must name a slot defined for
        the tenant (none is here); a custnr is unique in the tenant; statistics
        cover at most a month, date_from first."""
        query = case.query = dict(case.query or {})
        if case.method == "POST":
            if case.operation.definition.raw["summary"].startswith("POST with _method"):
                if not query.get("_method") and not (case.headers or {}).get("X-HTTP-Method-Override"):
                    query["_method"] = "PUT"
            else:
                query.pop("_method", None)
                (case.headers or {}).pop("X-HTTP-Method-Override", None)
                # The id of what PUT and DELETE change: a create is never given one.
                query.pop(created_id.get(case.path.rsplit("/", 1)[-1], ""), None)
        if isinstance(case.body, dict):
            body = next(body for body in case.operation.body if body.media_type == case.media_type)
            declared = set(body.definition["schema"].get("properties", ()))
            for name in [name for name in case.body if name not in declared]:
                del case.body[name]
            for name in ("customer_id", "source_id", "vm_greeting_id"):
                if name in case.body and (name in query or name in (case.path_parameters or {})):
                    del case.body[name]
            if (case.body.get("custnr") or "").strip():
                case.body["custnr"] = f"st-{uuid.uuid4().hex[:16]}"
        if query.get("date_from") or query.get("date_to"):
            query["date_from"] = query["date_to"] = query.get("date_to") or query["date_from"]

    statuses: Counter[int] = Counter()
    findings = _findings(runtime, "/tracking/v1", statuses, adjust=valid, headers={"Authorization": "Digest"},
                         auth=DigestWhereAuthorized(caller["user"], caller["password"]))
    assert not findings, "\n".join(findings)
    _assert_reached(statuses)
