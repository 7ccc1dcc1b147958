"""No one let in (issue 15): every route of every surface, read from the app
itself, called by every kind of caller that must be refused there; each
answer must be a refusal in the surface's own envelope, and nothing stored
may change.

The routes come from ``app.routes`` (and, for the call-tracking API, whose
Chalice routes are catch-alls, from its own resource table), so a route added
later without a rule in RULES fails ``test_every_route_has_a_rule``.

Which callers a route is walked with follows from its rule:

- every caller kind of the surface that has no right to anything: no
  credential, a revoked key (a logged-out session on the portal), an API-only
  user on a surface that needs a login, a user outside its IP allow-list;
- a read-only user, on routes that write;
- another tenant's administrator, on routes that name one of tenant A's objects;
- a user bound to customer Y, on routes that name customer X or one of its objects.

The voice API and the portal have no IP allow-list in their seeds, and only
the key surfaces have keys to revoke: KINDS_BY_SURFACE says who applies where.

An answer passes when it is 401 (no credential), 401/403/404 (the others) in
the surface's error envelope, or on the portal a redirect to its login page
or a 403/404 page. A write by a signed-in caller may be refused for its body
first (400); BODIES gives valid ones where it matters and the test prints how
many were refused that way. Every table except the audit log, every S3
object and every queue's message count are compared before and after each
surface's walk (what authentication itself writes, nonce counts, sessions and
failure counters, excepted). ``test_cells_checked`` prints the count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.support.worlds import authorisation
from tests.support.harness.in_process import SHARED_STATE
from tests.support.surfaces.voice import ADDRESS, EVENT_HOOK, TRUNK, gateway

# One world (two tenants, their users and sessions) for every surface's walk.
pytestmark = getattr(pytest.mark, SHARED_STATE)

NONE, TENANT, CUSTOMER = "none", "tenant", "customer"
READ, WRITE = "read", "write"
# A portal user managing its own API access (allow-list, own key): the
# read/write permission is about the APIs' data, so a read-only user may.
OWN = "own credentials"


@dataclass(frozen=True)
class Rule:
    access: str  # READ, WRITE or OWN (whatever the HTTP method says: carrier searches are POSTs)
    target: str  # which of tenant A's objects the path (or the carrier's accountno) names


PUBLIC = "public"  # answers anyone: documents, key sets, login and link pages

# -------------------------------------------------------------------- rules
# "METHOD /path" -> Rule or PUBLIC. Tracking resources are listed by their
# resource path under /tracking/{version} (the Chalice catch-alls are dispatch).

def _r(target: str = NONE) -> Rule:
    return Rule(READ, target)


def _w(target: str = NONE) -> Rule:
    return Rule(WRITE, target)


B = "/backend/api/v1"
RULES: dict[str, Rule | str] = {
    # billing platform (seed 000)
    f"GET {B}/openapi.json": PUBLIC,
    f"GET {B}/customers": _r(), f"POST {B}/customers": _w(),
    **{f"{m} {B}/customers/{{customer_id}}": (_r if m == "GET" else _w)(CUSTOMER)
       for m in ("GET", "PATCH", "PUT", "POST")},
    **{f"GET {B}/customers/{{customer_id}}/{child}": _r(CUSTOMER)
       for child in ("features", "invoices", "notes", "numbers", "payments", "services")},
    **{f"POST {B}/customers/{{customer_id}}/{child}": _w(CUSTOMER)
       for child in ("features", "notes", "numbers", "services")},
    **{f"{m} {B}/{kind}/{{{kind[:-1]}_id}}": (_r if m == "GET" else _w)(CUSTOMER)
       for kind in ("features", "notes", "services") for m in ("GET", "PATCH", "PUT", "POST")},
    **{f"GET {B}/{kind}": _r() for kind in ("features", "invoices", "noteAttachments", "notes", "numbers",
                                              "payments", "requestLogs", "services", "users")},
    **{f"POST {B}/{kind}": _w() for kind in ("features", "notes", "numbers", "services")},
    f"GET {B}/invoices/{{invoice_id}}": _r(TENANT), f"GET {B}/payments/{{payment_id}}": _r(TENANT),
    f"GET {B}/numbers/{{number_id}}": _r(TENANT), f"POST {B}/numbers/{{number_id}}": _w(TENANT),
    f"POST {B}/noteAttachmentUploads/{{upload_id}}": _w(TENANT),
    f"GET {B}/noteAttachments/{{attachment_id}}": _r(TENANT),
    f"PATCH {B}/noteAttachments/{{attachment_id}}": _w(TENANT),
    f"PUT {B}/noteAttachments/{{attachment_id}}": _w(TENANT),
    f"POST {B}/notes/{{note_id}}/noteAttachmentUploads": _w(CUSTOMER),
    f"POST {B}/notes/{{note_id}}/noteAttachments": _w(CUSTOMER),
    f"GET {B}/notes/{{note_id}}/noteAttachments": _r(CUSTOMER),
    f"GET {B}/users/{{user_id}}": _r(TENANT), f"POST {B}/users/{{user_id}}": _w(TENANT),
}

P = "/partner/api/v1"
RULES.update({
    f"GET {P}/openapi.json": PUBLIC,
    # One-time codes from e-mailed links are the credential: public by their seed.
    f"GET {P}/session": PUBLIC, f"POST {P}/session": PUBLIC, f"POST {P}/password": PUBLIC,
    "GET /partner/confirm-email": PUBLIC, "POST /partner/confirm-email": PUBLIC,
    "GET /partner/reset-password": PUBLIC, "POST /partner/reset-password": PUBLIC,
    f"GET {P}/balance": _r(), f"PUT {P}/funds": _w(), f"POST {P}/customers": _w(),
    f"GET {P}/customers/{{account_number}}/balance": _r(CUSTOMER),
    **{f"POST {P}/customers/{{account_number}}/{what}": _w(CUSTOMER)
       for what in ("confirm-email", "login-url", "reset-password")},
})

# Every carrier call names an account (accountno = customer X); GET and POST alike.
_CARRIER_WRITES = {"bulkreserve", "cdr_upload", "defineTrunk", "defineTrunk_termination",
                   "disable_trunk_termination", "gen_order", "generate_lnp_order", "make_payment",
                   "process_order", "remove_reserved", "reserve", "update_trunk", "updatenumber"}
_CARRIER_READS = {"availabilitynpanxx", "availabilitystate", "cdr_upload_status", "check_lnp", "daily_cdrs",
                  "daily_cdrs_termination", "did_stats", "financial_summary", "get_invoices", "get_lnp_orders",
                  "get_new_orders", "get_payments", "get_trunk", "get_trunk_termination", "getnumbers",
                  "monthly_summary", "monthly_summary_termination", "searchdid", "searchtfn", "tg_stats",
                  "tg_stats_termination"}
RULES.update({"GET /carrier/openapi.json": PUBLIC})
RULES.update({f"{m} /carrier/{name}": Rule(WRITE if name in _CARRIER_WRITES else READ, CUSTOMER)
              for name in _CARRIER_WRITES | _CARRIER_READS for m in ("GET", "POST")})

V = "/api/v1"
A = f"{V}/account/{{account}}"
RULES.update({
    f"GET {V}/openapi.json": PUBLIC, f"GET {V}/oauth/jwks": PUBLIC, f"GET {V}/.well-known/jwks.json": PUBLIC,
    f"POST {V}/oauth/authorize": PUBLIC,  # the login itself; its failures are throttled (tests/surface/voice)
    f"GET {V}/userAccounts/me": _r(), f"GET {V}/account": _r(),
    f"GET {A}": _r(CUSTOMER), f"GET {A}/address": _r(CUSTOMER), f"PUT {A}/address": _w(CUSTOMER),
    f"GET {A}/ddi": _r(CUSTOMER), f"POST {A}/simulator/inbound": _w(CUSTOMER),
    f"POST {A}/channels/voice": _w(CUSTOMER), f"GET {A}/channels/voice": _r(CUSTOMER),
    **{f"{m} {A}/channels/voice/{{call}}": (_r if m == "GET" else _w)(CUSTOMER) for m in ("GET", "PUT", "DELETE")},
    **{f"GET {A}/{kind}": _r(CUSTOMER) for kind in ("device", "hook", "trunk")},
    **{f"POST {A}/{kind}": _w(CUSTOMER) for kind in ("device", "hook", "trunk")},
    **{f"{m} {A}/{kind}/{{{kind}}}": (_r if m == "GET" else _w)(CUSTOMER)
       for kind in ("device", "hook", "trunk") for m in ("GET", "PUT", "DELETE")},
    f"GET {A}/hook/{{hook}}/deliveries": _r(CUSTOMER), f"POST {A}/hook/{{hook}}/signingSecret": _w(CUSTOMER),
})

RULES.update({
    "GET /portal": PUBLIC, "GET /portal/static/{name}": PUBLIC, "GET /portal/login": PUBLIC,
    "POST /portal/login": PUBLIC, "GET /portal/enrol": PUBLIC, "POST /portal/enrol": PUBLIC,
    "POST /portal/logout": PUBLIC,
    "GET /portal/api": _r(), "POST /portal/api/ips": Rule(OWN, NONE),
    "POST /portal/api/ips/remove": Rule(OWN, NONE),
    "POST /portal/api/key": Rule(OWN, NONE), "POST /portal/api/users": _w(),
    "POST /portal/api/users/{user_id}/key": _w(TENANT),
    "GET /portal/customers": _r(), "GET /portal/customers/{customer_id}": _r(CUSTOMER),
    "GET /portal/dashboard": _r(), "GET /portal/invoices": _r(), "POST /portal/invoices/pay": _w(),
    "GET /portal/invoices/{invoice_id}/pdf": _r(TENANT), "GET /portal/numbers": _r(),
    "POST /portal/numbers/order": _w(), "GET /portal/statistics": _r(),
})

T = "/tracking/{version}"
C = f"{T}/customers/{{customer_id}}"


def _crud(base: str, target: str, item: str, item_target: str) -> dict[str, Rule]:
    """A tracking collection (GET POST PUT DELETE) and its items (GET PUT DELETE)."""
    rules = {f"{m} {base}": Rule(READ if m == "GET" else WRITE, target) for m in ("GET", "POST", "PUT", "DELETE")}
    rules.update({f"{m} {base}/{item}": Rule(READ if m == "GET" else WRITE, item_target)
                  for m in ("GET", "PUT", "DELETE")})
    return rules


def _pool(base: str, target: str) -> dict[str, Rule]:
    return {f"GET {base}/number": _r(target), f"POST {base}/number": _w(target)}


RULES.update({
    f"GET {T}/miscellaneous/ping": _r(), f"GET {T}/custom_fields": _r(),
    f"GET {T}/statistics/cdrs": _r(), f"GET {T}/statistics/sources": _r(),
    **_crud(f"{T}/customers", NONE, "{customer_id}", CUSTOMER),
    **_crud(f"{T}/sources", NONE, "{source_id}", TENANT),
    **_crud(f"{T}/customers/sources", NONE, "{source_id}", TENANT),
    **_crud(f"{C}/sources", CUSTOMER, "{source_id}", CUSTOMER),
    **_crud(f"{T}/customers/voicemail_greetings", NONE, "{vm_greeting_id}", TENANT),
    **_crud(f"{C}/voicemail_greetings", CUSTOMER, "{vm_greeting_id}", CUSTOMER),
    **_pool(f"{T}/sources", NONE), **_pool(f"{T}/customers/sources", NONE),
    **_pool(f"{T}/sources/{{source_id}}", TENANT), **_pool(f"{T}/customers/sources/{{source_id}}", TENANT),
    **_pool(f"{C}/sources/{{source_id}}", CUSTOMER),
})
# Query parameters a request needs before it names its object (a visitor's
# session, an action), and bodies that pass validation, so a write is refused
# for who sends it rather than for what it sends ("{name}": the path parameter's
# value, "{name:int}" as a number). Writes without a body here are sent empty.
QUERIES = {key: "session=matrix.1" for key in RULES
           if key.startswith("GET /tracking") and key.endswith("/number")}
QUERIES.update({
    f"POST {B}/customers/{{customer_id}}": "action=generatePIN", f"POST {B}/features/{{feature_id}}": "action=drop",
    f"POST {B}/services/{{service_id}}": "action=cancel", f"POST {B}/numbers/{{number_id}}": "action=drop",
    f"POST {B}/users/{{user_id}}": "action=resetAPIKey",
    f"POST {B}/noteAttachmentUploads/{{upload_id}}": "action=complete",
})
_FILE = {"_fileContent": "aGVsbG8="}
BODIES: dict[str, dict[str, Any]] = {
    f"POST {B}/customers/{{customer_id}}/features": {"name": "F", "unitPrice": "1"},
    f"POST {B}/customers/{{customer_id}}/services": {"name": "S", "unitPrice": "1"},
    f"POST {B}/customers/{{customer_id}}/notes": {"text": "t"},
    f"POST {B}/customers/{{customer_id}}/numbers": {"number": "2065550123"},
    f"POST {B}/features": {"customerID": "{customer_id:int}", "name": "F"},
    f"POST {B}/services": {"customerID": "{customer_id:int}", "name": "S"},
    f"POST {B}/notes": {"customerID": "{customer_id:int}", "text": "t"},
    f"POST {B}/numbers": {"customerID": "{customer_id:int}", "number": "2065550123"},
    f"POST {B}/features/{{feature_id}}": {"dateDrop": "2030-01-01"},
    f"POST {B}/notes/{{note_id}}/noteAttachments": _FILE,
    f"POST {B}/notes/{{note_id}}/noteAttachmentUploads": {
        "name": "hello.txt", "_fileSize": 5,
        "_fileHash": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"},
    **{f"POST {P}/customers/{{account_number}}/{what}": {"google_captcha": "test-pass", "code": "123456"}
       for what in ("confirm-email", "login-url", "reset-password")},
    f"POST {P}/customers": {"google_captcha": "test-pass", "name": "N", "email": "n@example.com",
                            "password": "Correct-Horse-9!"},
    f"PUT {P}/funds": {"account_number": "{account_number}", "amount": "1", "description": "d"},
    f"POST {A}/trunk": TRUNK, f"PUT {A}/trunk/{{trunk}}": TRUNK, f"POST {A}/hook": EVENT_HOOK,
    f"PUT {A}/hook/{{hook}}": EVENT_HOOK, f"PUT {A}/address": ADDRESS,
    f"POST {A}/simulator/inbound": {"from": "+442071234567"},
    f"POST {A}/device": gateway("{trunk}"), f"PUT {A}/device/{{device}}": gateway("{trunk}"),
    **{f"{m} {C}/sources": {"source_id": "{source_id}"} for m in ("PUT", "DELETE")},
    **{f"{m} {C}/voicemail_greetings": {"vm_greeting_id": "{vm_greeting_id}"} for m in ("PUT", "DELETE")},
    f"POST {C}/sources": {"name": "S", "forward_to": "+14155550100"},
    f"POST {C}/voicemail_greetings": {"name": "G", "audio": "UklGRiQAAABXQVZF"},
}
# The Chalice routes of the tracking API: catch-alls dispatching to the resources above.
TRACKING_DISPATCH = re.compile(r"^/tracking/\{version\}(/\{p\d\})*$")

# ------------------------------------------------------------- the surfaces

SURFACES = authorisation.SURFACES
# Who has a credential to present where: keys and allow-lists are API matters.
KINDS_BY_SURFACE = {
    "platform": {"revoked key", "user outside its IP allow-list"},
    "partner": {"revoked key", "user outside its IP allow-list"},
    "carrier": {"revoked key", "user outside its IP allow-list"},
    "tracking": {"API-only user where login is required", "user outside its IP allow-list"},
    "voice": {"API-only user where login is required"},
    "portal": {"API-only user where login is required", "revoked key"},  # revoked: a logged-out session
}


def surface_of(path: str) -> str:
    return max((s for s, prefix in SURFACES.items() if path.startswith(prefix)), key=lambda s: len(SURFACES[s]))


# ----------------------------------------------------------------- the walk

def app_routes() -> Iterator[tuple[str, str]]:
    """(method, path template) of every route: the app's, with the tracking
    catch-alls replaced by the tracking API's resources."""
    from app import app
    from chalicelib.api.tracking import dialect

    for path, methods in app.routes.items():
        if TRACKING_DISPATCH.match(path):
            continue
        for method in methods:
            yield method, path
    for route in dialect.ROUTES:
        for method in route.handlers:
            yield method, f"{T}/" + "/".join(route.pattern)


def callers_for(method: str, path: str, rule: Rule) -> list[str]:
    surface = surface_of(path)
    kinds = ["no credential", *sorted(KINDS_BY_SURFACE[surface])]
    if rule.access == WRITE:
        kinds.append("read-only user writing")
    if rule.target in (TENANT, CUSTOMER):
        kinds.append("another tenant")
    if rule.target == CUSTOMER:
        kinds.append("customer-bound user on another customer")
    return kinds


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def _placed(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {name: _placed(item, ids) for name, item in value.items()}
    if isinstance(value, list):
        return [_placed(item, ids) for item in value]
    found = re.fullmatch(r"\{(\w+)(:int)?\}", value) if isinstance(value, str) else None
    if found is None:
        return value
    return int(ids[found.group(1)]) if found.group(2) else ids[found.group(1)]


@pytest.fixture(scope="module")
def world(client: Any) -> authorisation.World:
    return authorisation.build(client)


CELLS: dict[str, int] = {}
VALIDATED: dict[str, int] = {}
# Callers with a valid credential of the tenant: a write of theirs may be refused
# for its body (400) before its target is looked at (BODIES: as few as we could).
SIGNED_IN = {"another tenant", "customer-bound user on another customer", "read-only user writing"}


def test_every_route_has_a_rule() -> None:
    missing = sorted({f"{m} {p}" for m, p in app_routes()} - set(RULES))
    assert not missing, f"routes without a rule in RULES (add who may call them): {missing}"
    stale = sorted(set(RULES) - {f"{m} {p}" for m, p in app_routes()})
    assert not stale, f"rules for routes the app no longer has: {stale}"


@pytest.mark.parametrize("surface", list(SURFACES))
def test_no_caller_is_let_in(client: Any, world: authorisation.World, surface: str) -> None:
    problems: list[str] = []
    cells = validated = 0
    before = authorisation.snapshot()
    for method, template in sorted(set(app_routes())):
        rule = RULES.get(f"{method} {template}")
        if surface_of(template) != surface or not isinstance(rule, Rule):
            continue
        path = fill(template, world.ids)
        query = QUERIES.get(f"{method} {template}")
        path = f"{path}?{query}" if query else path
        body = {name: _placed(value, world.ids) for name, value in BODIES.get(f"{method} {template}", {}).items()}
        for kind in callers_for(method, template, rule):
            response = authorisation.send(client, surface, method, path, world.callers[kind], body)
            cells += 1
            if response.status_code == 400 and rule.access != READ and kind in SIGNED_IN:
                validated += 1  # refused for its (empty) body first; the state check below still applies
                continue
            problem = authorisation.refusal_problem(surface, kind, response)
            if problem:
                problems.append(f"{method} {template} as {kind}: {problem}")
    after = authorisation.snapshot()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        problems.append(f"stored state changed: {changed[:10]}")
    CELLS[surface] = cells
    VALIDATED[surface] = validated
    assert cells > 0
    assert not problems, f"{len(problems)} of {cells} cells let a caller in:\n" + "\n".join(problems)


def test_cells_checked() -> None:
    total = sum(CELLS.values())
    print(f"\nauthorisation matrix: {total} cells checked ({CELLS}); "
          f"{sum(VALIDATED.values())} writes refused for their body first ({VALIDATED})")
    assert set(CELLS) == set(SURFACES) and total > 500, CELLS
