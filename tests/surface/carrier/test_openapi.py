"""The carrier API's OpenAPI description (/carrier/openapi.json) is valid,
describes every endpoint the blueprint registers, and every answer below, of
every endpoint, success and error, matches it."""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import clock
from chalicelib.api.carrier import openapi_endpoints
from tests.support.surfaces.carrier import landlines, make_shop, tollfree
from tests.support.worlds.cdrs import generate, world, write  # noqa: F401  (world is a fixture)
from tests.support.checks.openapi import check, documented_routes, registered_routes, served

NEXT_YEAR = str(date.today().year + 1)
TRUNK = {"title": "vitcoms", "primaryTrunk": "203.0.113.10", "primaryPrefix": "1234", "primaryPort": "5060",
         "secondaryTrunk": "203.0.113.11", "billingType": "Unmetered", "sessions": "20", "mou": "Unlimited",
         "call_forwarding": "12065550100"}


@pytest.fixture()
def document(client: Any) -> dict[str, Any]:
    return served(client, "/carrier/openapi.json")  # no token needed


class Carrier:
    """Calls /carrier/<name> as one key and account, in any of the accepted
    encodings, and checks every answer against the description."""

    def __init__(self, client: Any, document: dict[str, Any], key: str, account: str | None) -> None:
        self.client, self.document, self.key, self.account = client, document, key, account
        self.seen: dict[str, set[int]] = defaultdict(set)

    def __call__(self, name: str, verb: str = "POST", *, encoding: str = "json", headers: dict | None = None,
                 files: dict[str, bytes] | None = None, expect: int | None = 200, **params: Any) -> dict[str, Any]:
        fields = {"token": self.key, **({"accountno": self.account} if self.account else {}),
                  **{k: str(v) for k, v in params.items()}}
        head = dict(headers or {})
        path = f"/carrier/{name}"
        if verb == "GET":
            response = self.client.get(f"{path}?{urlencode(fields)}", headers=head)
        else:
            body: str | bytes
            if files is not None or encoding == "multipart":
                body, head["Content-Type"] = multipart(fields, files or {})
            elif encoding == "form":
                body, head["Content-Type"] = urlencode(fields), "application/x-www-form-urlencoded"
            else:
                body, head["Content-Type"] = json.dumps(fields), head.get("Content-Type", "application/json")
            response = self.client.post(path, body=body, headers=head)
        answer = json.loads(response.body)
        check(self.document, verb, f"/{name}", response.status_code, answer)
        self.seen[name].add(response.status_code)
        if expect is not None:
            assert response.status_code == expect, (name, answer)
        return answer


def multipart(fields: dict[str, str], files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{k}.zip"\r\n'
              f'Content-Type: application/zip\r\n\r\n'.encode() + data + b"\r\n" for k, data in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("loa.pdf", b"%PDF-1.4 signed")
    return buffer.getvalue()


def test_limits_match_the_code() -> None:
    from chalicelib.api.carrier import origination
    from chalicelib.services.calls import stats
    from chalicelib.services.numbers import inventory, porting

    assert (openapi_endpoints.MAX_UPDATE, openapi_endpoints.MAX_STATS_IDS, openapi_endpoints.MAX_CDR_DAYS,
            openapi_endpoints.SEARCH_LIMIT, openapi_endpoints.SUBSCRIBER_FIELDS) == (
        inventory.MAX_UPDATE, stats.MAX_IDS, stats.MAX_DAYS, origination.SEARCH_LIMIT, porting.SUBSCRIBER_FIELDS)


def test_the_description_is_not_loaded_on_a_cold_start() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import app, sys; print(sorted(m for m in sys.modules if m.startswith('chalicelib.api.carrier.openapi')))"
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_every_endpoint_is_described(document: dict[str, Any]) -> None:
    registered = set(registered_routes("/carrier"))
    assert len(registered) > 60  # the routes were found
    assert registered == documented_routes(document)  # and nothing is described that is not served


def test_answers_match_the_description(client: Any, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.auth import api_key
    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.services.money import invoices, ledger
    from chalicelib.services.numbers import porting
    from chalicelib.store.clients import client as aws_client
    from chalicelib import settings
    from tests.support.worlds.numbers import own

    shop = make_shop(landlines("206219", 8) + tollfree("877", 3), credit_limit="-1000")
    account = shop.accounts[0]
    api = Carrier(client, document, shop.keys[account], account)
    admin = api_key.authenticate(shop.admin_key, None)

    # Origination: availability, search, reservations.
    api("availabilitystate", "GET")
    api("availabilitynpanxx", state="WA", encoding="form")
    api("availabilitynpanxx", "GET", state="ZZ", expect=404)
    api("searchdid", "GET", state="WA", NPANXX="206219")
    api("searchdid", NPANXXYYYY="2062190001", encoding="multipart")
    api("searchdid", NPANXX="206219", expect=404)  # no state
    api("searchtfn", tfn_prefix="877")
    api("searchtfn", tfn_prefix="999", expect=404)
    one = api("reserve", category="landline", number="2062190000", state="WA")
    api("reserve", category="landline", number="2062190000", expect=404)  # held already
    api("reserve", category="tollfree", number="2062190001", expect=404)
    cart = api("bulkreserve", category="landline", state="WA", quantity="2")
    api("bulkreserve", category="landline", state="WA", quantity="1001", expect=404)
    assert cart["reserveId"] == one["reserveId"]  # one Order Cart per customer
    api("remove_reserved", reserveId=one["reserveId"], number="2062190000")
    api("remove_reserved", reserveId="nope", expect=404)

    # Trunks, orders, numbers.
    tg = api("defineTrunk", headers={"Idempotency-Key": "tg-1"}, **TRUNK)["tg_id"]
    api("defineTrunk", **{**TRUNK, "billingType": "Other"}, expect=404)
    api("get_trunk", "GET")
    api("get_trunk", tg_id="999999", expect=404)
    api("update_trunk", trunkid=tg, title="renamed", secondaryPort="5080", secondaryPrefix="12345")
    api("update_trunk", trunkid=tg, primaryTrunk="1.2.3.999", expect=404)
    order = api("gen_order", reserveId=cart["reserveId"], trunk_id=tg)
    api("gen_order", reserveId=cart["reserveId"], trunk_id=tg, expect=404)  # a cart orders once
    api("process_order", headers={"Idempotency-Key": "po-1"}, orderId=order["orderId"])
    api("process_order", headers={"Idempotency-Key": "po-1"}, orderId="999", expect=422)
    api("process_order", orderId=order["orderId"])  # queued already: the same answer
    api("get_new_orders", "GET")
    api("get_new_orders", orderId="999", expect=404)
    own(admin, shop.customer_ids[0], ["2062190005", "2062190006"], imported=True, trunk_id=int(tg))
    api("getnumbers", "GET")
    api("getnumbers", status="7", expect=404)
    api("updatenumber", number="2062190005,2062190006", status="0", cnam="ACME", trunkId=tg)
    api("updatenumber", number="2062190005", cnam="*" * 16, expect=404)

    # Porting.
    porting.import_portability(tenant=shop.tenant, lines=io.StringIO(
        "number,portable,reason,losing_carrier,min_port_days\n15035550100,yes,,Bandwidth,5\n"
        "15035550102,no,port-out freeze,Lumen,5\n"))
    api("check_lnp", "GET", numbers="15035550100,15035550102,15035550199")
    api("check_lnp", numbers="150355501", expect=404)
    lnp = {"numbers": "15035550100,15035550102", "category": "landline", "subscriberType": "residential",
           "loaAuthorizingPerson": "Sunny Summertime", "subscriberFirstName": "Sunny", "addressZip": "97230"}
    api("generate_lnp_order", files={"loa_doc": a_zip(), "carrier_doc": a_zip()}, **lnp)
    api("generate_lnp_order", files={"loa_doc": a_zip()}, **lnp, expect=404)
    api("generate_lnp_order", "GET", **lnp, expect=404)  # no documents in a query string
    api("get_lnp_orders")
    api("get_lnp_orders", orderId="999", expect=404)

    # Termination trunks.
    term = api("defineTrunk_termination", title="out", ipaddress="198.51.100.7", ports="30", cps="5")["tg_id"]
    api("defineTrunk_termination", title="out", ipaddress="198.51.100.7", ports="1001", expect=404)
    api("get_trunk_termination", "GET", tg_id=term)
    api("get_trunk_termination", tg_id="999999", expect=404)
    api("disable_trunk_termination", tg_id=term)
    api("disable_trunk_termination", tg_id="x", expect=404)

    # Billing: a movement in a closed month and its invoice, card payments.
    with clock.frozen("2025-01-15T10:00:00"):
        ledger.post_movement(tenant=shop.tenant, account=shop.customer_ids[0], activity=ledger_rules.ADJUSTMENT,
                             amount=Decimal("2.5"), reference="x", idempotency_key="x")
    invoices.close_month(tenant=shop.tenant, month="2025-01")
    assert api("get_invoices", "GET", **{"from": "2025-01-01", "to": "2025-12-31"})["data"]
    api("get_invoices", **{"from": "2025-13-01"}, expect=404)
    card = {"firstname": "Ada", "lastname": "L", "cardnumber": "4242424242424242", "expmonth": "12",
            "expyear": NEXT_YEAR, "cvv": "123"}
    api("make_payment", amount="10", encoding="form", **card)
    api("make_payment", amount="10", **{**card, "cardnumber": "4000000000000002"}, expect=402)
    api("make_payment", amount="10", **{**card, "cardnumber": "4000000000000119"}, expect=202)
    api("make_payment", amount="10", **{**card, "cvv": "1"}, expect=404)
    api("make_payment", headers={"Idempotency-Key": "pay-1"}, amount="1", **card)
    api("make_payment", headers={"Idempotency-Key": "pay-1"}, amount="2", **card, expect=404)  # another amount
    assert api("financial_summary", "GET", **{"from": "2025-01-01"})["data"]
    api("financial_summary", activitytype="Credit Card")
    api("financial_summary", activitytype="Lottery", expect=404)
    assert api("get_payments")["data"]
    api("get_payments", method="cash", expect=404)

    # Statistics of numbers and trunks without calls; the files of no day.
    api("did_stats", "GET", number="2062190005")
    api("did_stats", number="2062190001", expect=404)  # not the account's
    api("tg_stats", tg_id=tg)
    api("tg_stats", tg_id=term, expect=404)
    api("tg_stats_termination", tg_id=term)
    api("tg_stats_termination", tg_id="", expect=404)
    api("monthly_summary", year="2026")
    api("monthly_summary", year="26", month="13", expect=404)
    api("monthly_summary_termination", "GET", year="2026", month="4")
    api("daily_cdrs", **{"from": "2026-04-01", "to": "2026-04-02"})
    api("daily_cdrs", **{"from": "2026-04-02", "to": "2026-04-01"}, expect=404)
    api("daily_cdrs_termination", **{"from": "2026-04-01", "to": "2026-04-02"})

    # The CDR upload extension: tenant-level, accountno optional.
    tenant_api = Carrier(client, document, shop.admin_key, None)
    upload = tenant_api("cdr_upload", filename="Master.csv")
    api("cdr_upload", filename="Master.csv", expect=403)  # a customer user
    tenant_api("cdr_upload", filename="../etc", expect=404)
    tenant_api("cdr_upload_status", filename=upload["filename"], expect=404)  # not uploaded yet
    aws_client("s3").put_object(Bucket=settings.blob_bucket(), Key=upload["fields"]["key"], Body=b"x")
    assert tenant_api("cdr_upload_status", "GET", filename=upload["filename"])["state"] == "pending"

    # Every endpoint: a wrong key, no account, a media type it does not take.
    stranger = Carrier(client, document, "dtk_wrong", account)
    nobody = Carrier(client, document, shop.keys[account], None)
    for path in document["paths"]:
        name = path[1:]
        stranger(name, "GET", expect=401)
        api(name, headers={"Content-Type": "application/xml"}, expect=415)
        if not name.startswith("cdr_upload"):
            nobody(name, expect=404)
        assert 200 in api.seen[name] | tenant_api.seen[name], f"{name} never answered 200"


def test_stats_with_calls_match_the_description(world: dict[str, Any], client: Any, document: dict[str, Any]) -> None:
    import random

    from chalicelib.services.calls import daily, ingest

    t, rng = world["tenant"], random.Random(3)
    rows = generate(rng, world, 60, "2026-04-10", "s")
    ingest.import_file(tenant=t, path=str(write(world["tmp"] / "s.csv", rows)))
    daily.daily_close(tenant=t, day="2026-04-10")
    api = Carrier(client, document, world["api_key"], world["customers"][0]["accountNumber"])
    assert api("did_stats", number="12065550101,2065550102")["data"]
    assert api("tg_stats", tg_id=world["origination"][0])["data"]
    assert api("tg_stats_termination", tg_id=world["termination"][0])["data"]
    assert api("monthly_summary", year="2026", month="4")["data"]
    assert api("monthly_summary_termination", year="2026")["data"]
    assert api("daily_cdrs", **{"from": "2026-04-09", "to": "2026-04-11"})["data"]
    assert api("daily_cdrs_termination", **{"from": "2026-04-09", "to": "2026-04-11"})["data"]
