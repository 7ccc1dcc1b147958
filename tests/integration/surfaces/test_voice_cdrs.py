"""A finished voice call is a CDR of the existing pipeline, end to end on the
local runtime and driven as production drives it: the call's row lands in the
tenant's CDR inbox, S3 notifies the cdr-files queue, the worker pump runs
``cdr_files`` (the figures move), and the daily close (``run-job daily-close``,
what the cdr_daily_close schedule runs) rates the day and charges it once.

An outbound call counts for its termination trunk (carrier ``tg_stats_termination``;
one placed while the account had no trunk, for its platform voice route),
an inbound call to a DDI for that number (``did_stats``); the inbound DDI is a
call-tracking number, so the call is listed in ``statistics/cdrs``."""
from __future__ import annotations

import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import requests
from requests.auth import HTTPDigestAuth

from chalicelib import clock
from tests.support.harness.tenants import create_tenant
from tests.support.harness.admin import admin as admin_cli
from tests.support.harness.runtime import LocalRuntime
from tests.support.surfaces.voice import TRUNK, route_start

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
DECKS = {  # prefix,rate,connect_fee,initial_increment,increment: a minute or less costs rate + fee
    "outbound": "44,0.05,0,60,60\n",
    "inbound": "1206,0.01,0.001,60,60\n",
}
OUTBOUND_COST, INBOUND_COST = Decimal("0.05"), Decimal("0.011")


def _wait(predicate: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def _call_charges(runtime: LocalRuntime, tenant: str, customer_id: int) -> list[Decimal]:
    """The customer's "Call Charges" ledger entries (amounts)."""
    from chalicelib import settings
    from chalicelib.domain.money.amounts import as_money
    from chalicelib.store.dynamo.table import query_pages
    from chalicelib.store.money import ledger

    with runtime.environment():
        pages = query_pages(settings.ledger_table(), key_condition="PK = :pk AND begins_with(SK, :e)",
                            values={":pk": ledger.ledger_pk(tenant, customer_id), ":e": "E#"}, consistent=True)
        return [as_money(i["amount"]) for page in pages for i in page if i.get("activity") == "Call Charges"]


def test_a_voice_call_is_rated_charged_once_counted_and_tracked(runtime: LocalRuntime, tmp_path: Path) -> None:
    made = create_tenant(runtime, name="Voice CDR Organisation")
    tenant, admin = made["tenant"]["id"], made["user"]
    tracking_number = f"20677{int(time.time() * 1000) % 100000:05d}"  # unique in the session's inventory
    with runtime.environment():
        from chalicelib.auth import api_key
        from chalicelib.domain.voice import opaque_id
        from tests.support.worlds.numbers import import_landlines

        principal = api_key.authenticate(admin["api_key"], None)
        import_landlines(tenant, [tracking_number])
    for direction, rows in DECKS.items():
        deck = tmp_path / f"{direction}.csv"
        deck.write_text("prefix,rate,connect_fee,initial_increment,increment\n" + rows)
        assert admin_cli(runtime, "import-rates", "--tenant", tenant, "--direction", direction, str(deck))

    # The account is a call-tracking customer whose source orders the tracking number: a DDI of the account.
    tracking = requests.Session()
    tracking.auth = HTTPDigestAuth(admin["username"], admin["password"])
    base = runtime.base_url + "/tracking/v1"
    cid = tracking.post(f"{base}/customers", data={"name": "Voice Calls Ltd", "custnr": f"vc{uuid.uuid4().hex[:6]}"}
                        ).json()["customers"][0]["customer_id"]
    customer_id = int(cid)
    with runtime.environment():
        from chalicelib.services.customers import accounts

        accounts.update_customer(principal=principal, customer_id=customer_id, changes={"creditLimit": Decimal("-100")})
        account_number = accounts.get_customer(principal=principal, customer_id=customer_id)["accountNumber"]
    source = tracking.post(f"{base}/customers/{cid}/sources", data={"name": "Radio ad", "number": tracking_number})
    assert source.status_code == 200, source.text
    source_id = source.json()["sources"][0]["source_id"]
    account = opaque_id(tenant, "ACCOUNT", customer_id)

    http = runtime.session()
    voice = runtime.base_url + "/api/v1"
    token = http.post(voice + "/oauth/authorize", data={"username": admin["username"], "password": admin["password"]},
                      headers=FORM).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(method: str, path: str, body: Any = None) -> requests.Response:
        return http.request(method, f"{voice}/account/{account}{path}", json=body, headers=headers)

    ddis = call("GET", "/ddi").json()
    assert [d["name"] for d in ddis] == ["1" + tracking_number]

    def final(call_id: str) -> Any:
        found = call("GET", f"/channels/voice/{call_id}").json()
        return found if found["state"] not in ("queued", "initiated", "ringing", "answered") else None

    pizza = {"callerId": "+1" + tracking_number, "target": {"phoneNumber": {"number": "+441234567893"}},
             "verbs": [{"say": {"text": ["Your pizza is outside!"]}}, {"hangup": {"reason": "call-complete"}}]}
    # Placed while the account has no SIP trunk: it went out on the platform's route, and is charged too.
    routed = call("POST", "/channels/voice", pizza)
    assert routed.status_code == 201, routed.text
    assert _wait(lambda: final(routed.json()["id"]))["state"] == "completed"

    trunk = call("POST", "/trunk", TRUNK)
    assert trunk.status_code == 201, trunk.text
    assert call("POST", "/device", route_start(ddis[0]["id"], "HANGUP")).status_code == 201
    outbound = call("POST", "/channels/voice", pizza)
    assert outbound.status_code == 201, outbound.text
    inbound = call("POST", "/simulator/inbound", {"ddi": ddis[0]["id"], "from": "+441234567890"})
    assert inbound.status_code == 201, inbound.text
    calls = [_wait(lambda: final(made.json()["id"])) for made in (outbound, inbound)]
    assert [c["state"] for c in calls] == ["completed", "completed"], calls

    # Ingested by the cdr_files worker (S3 notification -> queue -> pump): the carrier figures move.
    carrier = {"token": admin["api_key"], "accountno": account_number}
    trunk_id = _trunk_number(runtime, tenant, trunk.json()["id"])

    def figures(endpoint: str, **params: str) -> Any:
        answer = http.get(f"{runtime.base_url}/carrier/{endpoint}", params={**carrier, **params}).json()
        rows = answer.get("data") or []
        return rows[0] if answer.get("status") == "200" and rows and rows[0].get("processed") == "1" else None

    assert _wait(lambda: figures("tg_stats_termination", tg_id=str(trunk_id)))["completed"] == "1"

    def platform_route() -> Any:
        from chalicelib.store.voice import accounts as account_store

        with runtime.environment():
            return account_store.platform_route(tenant, customer_id)
    route_id = _wait(platform_route)
    assert _wait(lambda: figures("tg_stats_termination", tg_id=str(route_id)))["completed"] == "1"
    assert _wait(lambda: figures("did_stats", number=tracking_number))["completed"] == "1"

    # Call tracking lists the inbound call as a call of the source that holds the number.
    listed = _wait(lambda: tracking.get(f"{base}/statistics/cdrs?customer_id={cid}").json()["cdrs"])
    assert [(c["source_id"], c["number"], c["caller"]) for c in listed] == [
        (str(source_id), "+1" + tracking_number, "441234567890")], listed
    assert listed[0]["cdr_id"] == "voice-" + calls[1]["id"]

    # The day's close, as the schedule runs it: rated and charged once; a second close posts nothing.
    day = clock.now().strftime("%Y-%m-%d")
    assert calls[0]["createdAt"][:10] == day, "the test ran across midnight UTC"
    assert _call_charges(runtime, tenant, customer_id) == []
    closed = admin_cli(runtime, "run-job", "daily-close", "--tenant", tenant, "--date", day)
    assert closed.get("unrated", 0) == 0, closed
    assert _call_charges(runtime, tenant, customer_id) == [-(2 * OUTBOUND_COST + INBOUND_COST)]
    admin_cli(runtime, "run-job", "daily-close", "--tenant", tenant, "--date", day)
    assert _call_charges(runtime, tenant, customer_id) == [-(2 * OUTBOUND_COST + INBOUND_COST)]


def _trunk_number(runtime: LocalRuntime, tenant: str, ref: str) -> int:
    """The carrier API's trunk id behind the voice API's trunk id."""
    from chalicelib.domain.voice import parse_opaque_id

    number = parse_opaque_id(tenant, "TRUNK", ref, uuid=True)
    assert number is not None
    return number
