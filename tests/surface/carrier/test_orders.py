"""Trunks, orders and my numbers on the carrier API (Chalice test client, moto),
walking the seed's endpoints with the seed's parameters."""
import json
from decimal import Decimal

import pytest

from chalicelib.services.numbers import order_charges

from chalicelib.services.numbers import orders
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import orders as order_store
from chalicelib.store.dynamo import schema
from tests.support.surfaces.carrier import Carrier, chalice_sender, landlines, make_shop, tollfree

TRUNK = {"title": "vitcoms", "primaryTrunk": "203.0.113.10", "primaryPrefix": "1234", "primaryPort": "5060",
         "secondaryTrunk": "203.0.113.11", "secondaryPrefix": "12345", "secondaryPort": "5080",
         "billingType": "Unmetered", "sessions": "20", "mou": "Unlimited", "call_forwarding": "12065550100"}


# The shop (inventory, customers, keys) is built once for the module.
pytestmark = pytest.mark.aws_state_shared_by_module


@pytest.fixture(scope="module")
def shop(aws):
    return make_shop(landlines("206219", 12) + tollfree("877", 3), customers=3)


@pytest.fixture()
def api(client, shop):
    return Carrier(chalice_sender(client), shop.keys[shop.accounts[0]], shop.accounts[0])


@pytest.fixture()
def other(client, shop):
    return Carrier(chalice_sender(client), shop.keys[shop.accounts[1]], shop.accounts[1])


def define(api, **changes):
    status, body = api("defineTrunk", **{**TRUNK, **changes})
    assert (status, body["status"], body["success"]) == (200, "200", "Trunk group added successfully."), body
    return body["tg_id"]


def test_origination_trunks_define_get_update(api, other):
    tg = define(api)
    _, body = api("get_trunk", tg_id=tg)
    view = body["data"][0]
    assert (view["id"], view["title"], view["primaryIP"], view["primaryPort"], view["prefix_1"]) == (
        tg, "vitcoms", "203.0.113.10", "5060", "1234")
    assert view["secondaryIP"] == "203.0.113.11" and view["prefix_2"] == "12345" and view["status"] == "1"
    assert view["req_sessions"] == "20" and len(view["date"]) == 19
    status, body = api("update_trunk", trunkid=tg, primaryPort="5070", title="renamed")
    assert (status, body) == (200, {"status": "200", "trunkid": tg, "success": "Trunk successfully Updated."})
    view = api("get_trunk", tg_id=tg)[1]["data"][0]
    assert (view["primaryPort"], view["title"], view["primaryIP"], view["prefix_2"]) == (
        "5070", "renamed", "203.0.113.10", "12345")
    assert tg in [t["id"] for t in api("get_trunk")[1]["data"]]
    assert other("get_trunk", tg_id=tg) == (404, {"status": "404", "error": "Invalid tg_id"})
    assert other("update_trunk", trunkid=tg, title="x") == (404, {"status": "404", "error": "Invalid trunkid"})


@pytest.mark.parametrize("changes, error", [
    ({"primaryTrunk": "300.1.1.1"}, "Invalid primaryTrunk"),
    ({"primaryTrunk": ""}, "Invalid primaryTrunk"),
    ({"primaryPrefix": "123"}, "Invalid primaryPrefix"),
    ({"primaryPrefix": "1234567"}, "Invalid primaryPrefix"),
    ({"primaryPort": "506"}, "Invalid primaryPort"),
    ({"billingType": "Flat"}, "Invalid billingType"),
    ({"billingType": "Unmetered", "sessions": ""}, "Invalid sessions"),
    ({"call_forwarding": "2065550100"}, "Invalid call_forwarding"),
    ({"secondaryTrunk": "10.0.0"}, "Invalid secondaryTrunk"),
])
def test_bad_trunk_definitions_change_nothing(api, other, changes, error):
    before = other("get_trunk")[1]["data"]
    assert other("defineTrunk", **{**TRUNK, **changes}) == (404, {"status": "404", "error": error})
    assert other("get_trunk")[1]["data"] == before


def test_update_trunk_refuses_an_invalid_ip_and_keeps_the_trunk(api):
    tg = define(api)
    assert api("update_trunk", trunkid=tg, primaryTrunk="1.2.3.999")[1]["error"] == "Invalid primaryTrunk"
    assert api("get_trunk", tg_id=tg)[1]["data"][0]["primaryIP"] == "203.0.113.10"


def test_termination_trunk_define_get_pdf_disable(api, other, shop):
    status, body = api("defineTrunk_termination", title="out", ipaddress="198.51.100.7", ports="30", cps="5")
    assert status == 200 and body["success"] == "Trunk group added successfully."
    tg = body["tg_id"]
    view = api("get_trunk_termination", tg_id=tg)[1]["data"][0]
    assert (view["id"], view["ipaddress"], view["ports"], view["cps"], view["status"]) == (
        tg, "198.51.100.7", "30", "5", "1")
    assert view["config"].startswith("http")
    from chalicelib.store import blobs

    pdf = blobs.get(shop.tenant, f"trunks/{tg}/settings-v1.pdf")
    assert pdf.startswith(b"%PDF") and b"198.51.100.7" in pdf
    assert other("disable_trunk_termination", tg_id=tg) == (404, {"status": "404", "error": "Invalid tg_id"})
    assert api("disable_trunk_termination", tg_id=tg) == (200, {"status": "200", "Removed TNs": "Diabled Successfully"})
    assert api("get_trunk_termination")[1]["data"][-1]["status"] == "0"
    for params, error in (({"ports": "0"}, "Invalid ports"), ({"ports": "1001"}, "Invalid ports"),
                          ({"ipaddress": "1.2.3"}, "Invalid ipaddress")):
        assert api("defineTrunk_termination", **{"title": "t", "ipaddress": "198.51.100.8", "ports": "2",
                                                 **params})[1]["error"] == error


def test_a_termination_trunk_titled_outside_latin_1_has_its_settings_pdf(api, shop):
    """The PDF's core fonts are Latin-1: a title in another script (or an
    astral-plane character, as schemathesis sent) was a 500 on every later
    get_trunk_termination of the account."""
    status, body = api("defineTrunk_termination", title="東京 trunk \U000d88a9", ipaddress="198.51.100.9", ports="2")
    assert status == 200, body
    status, body = api("get_trunk_termination", tg_id=body["tg_id"])
    assert status == 200 and body["data"][0]["config"].startswith("http"), body


def deliver(client, shop, account=0):
    """Pull the queued messages and hand them to the order worker as SQS does."""
    from chalicelib.store import queues
    from chalicelib.store.clients import client as aws_client

    sqs = aws_client("sqs")
    received = sqs.receive_message(QueueUrl=queues.queue_url("orders"), MaxNumberOfMessages=10).get("Messages", [])
    for message in received:
        sqs.delete_message(QueueUrl=queues.queue_url("orders"), ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in received]


@pytest.fixture(scope="module")
def lambdas(aws):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client


def run_worker(lambdas, bodies):
    """The SQS event Lambda sends (distinct message ids), to the order worker."""
    event = lambdas.events.generate_sqs_event(queue_name="dialtone-test-orders", message_bodies=bodies)
    return lambdas.lambda_.invoke("order_worker", event).payload


def test_order_from_cart_to_active_numbers_charged_once(client, lambdas, api, other, shop):
    customer_id = shop.customer_ids[0]
    from chalicelib.services.money import statements as billing

    billing.adjust_balance(tenant=shop.tenant, account_number=shop.accounts[0], amount="100", reason="deposit",
                           idempotency_key="deposit-1")
    orders.set_order_pricing(tenant=shop.tenant, values={"perOrderCost": Decimal("1.5"), "taxRate": Decimal("0.1"),
                                                         "otherCharges": Decimal("0.25"), "discountRate": Decimal("0")})
    tg = define(api)
    rid = api("bulkreserve", category="landline", state="WA", quantity="3")[1]["reserveId"]
    assert other("gen_order", reserveId=rid, trunk_id=tg)[1]["error"] == "Invalid trunk_id"
    status, body = api("gen_order", reserveId=rid, trunk_id=tg)
    assert status == 200 and body["success"] == "Order Generated successfully."
    # 3 x (1.25 + 0.50) = 5.25; + 1.50 per order; taxes 10% of 6.75; + 0.25
    assert (body["amount"], body["per_order_cost"], body["taxes"], body["other_charges"], body["discount"]) == (
        "7.675", "1.50", "0.675", "0.25", "0.00")
    assert body["numbers"] == ["2062190000", "2062190001", "2062190002"] and body["tg_id"] == tg
    assert body["didType"] == "Unmetered" and body["didCategory"] == "Landline"
    # "status" is the envelope's success, as on every other answer; the order's own state has its own keys.
    assert (body["status"], body["orderStatus"], body["orderState"], body["reserveId"]) == ("200", "0", "generated",
                                                                                             rid)
    order_id = body["orderId"]
    assert api("gen_order", reserveId=rid, trunk_id=tg)[1]["error"] == "Invalid reserveId"  # a cart orders once
    assert other("process_order", orderId=order_id) == (404, {"status": "404", "error": "Invalid orderId"})
    status, body = api("process_order", headers={"Idempotency-Key": "po-1"}, orderId=order_id)
    assert (status, body) == (200, {"status": "200", "success": "Order Processed Successfully.", "orderId": order_id})
    assert api("process_order", headers={"Idempotency-Key": "po-1"}, orderId=order_id) == (status, body)
    bodies = deliver(client, shop)
    assert len(bodies) == 1
    # delivered twice (a redelivery), and then once more in a second batch
    assert run_worker(lambdas, bodies * 2) == {"batchItemFailures": []}
    assert run_worker(lambdas, bodies) == {"batchItemFailures": []}
    assert order_charges.balance_of(tenant=shop.tenant, customer_id=customer_id) == Decimal("92.32500")
    _, body = api("get_new_orders", orderId=order_id)
    order = body["Orders"][0]
    assert order["status"] == "1" and [h["status"] for h in order["history"]] == [
        "generated", "queued", "charged", "complete"]
    # One money format on this surface: the order's amounts read the same everywhere they are shown.
    assert (order["amount"], order["per_order_cost"], order["discount"]) == ("7.675", "1.50", "0.00")
    summary = api("financial_summary", activitytype="Order (New DIDs)")[1]["data"]
    assert [(e["debit"], e["credit"]) for e in summary] == [("7.675", "0.00")]
    assert api("financial_summary", activitytype="Adjustment")[1]["data"][0]["credit"] == "100.00"
    _, body = api("getnumbers", status="1")
    assert [(n["didnumber"], n["status"], n["trunkGroup"], n["didRate"]) for n in body["data"]] == [
        (f"206219000{n}", "1", "203.0.113.10", "1.25") for n in range(3)]
    assert api("getnumbers", orderno=order_id)[1]["data"][0]["orderno"] == order_id
    assert api("getnumbers", category="tollfree")[1]["data"] == []
    assert other("getnumbers")[1]["data"] == []
    assert other("get_new_orders", orderId=order_id)[1]["error"] == "Invalid orderId"
    # update status and CNAM of two numbers; another customer's numbers are refused
    status, body = api("updatenumber", number="2062190000,2062190001", status="0", cnam="ACME")
    assert (status, body) == (200, {"status": "200", "success": "Trunk successfully Updated."})
    got = {n["didnumber"]: n for n in api("getnumbers")[1]["data"]}
    assert got["2062190000"]["status"] == "0" and got["2062190001"]["cnam"] == "ACME"
    assert got["2062190002"]["status"] == "1"
    assert other("updatenumber", number="2062190002", status="2")[1]["error"] == "Invalid number"
    assert api("updatenumber", number="2062190002", status="7")[1]["error"] == "Invalid status"
    assert api("getnumbers", status="1")[1]["data"][0]["didnumber"] == "2062190002"


def test_an_order_the_balance_cannot_cover_fails_and_releases_its_numbers(client, lambdas, shop):
    account = shop.accounts[2]
    api = Carrier(chalice_sender(client), shop.keys[account], account)
    from chalicelib.store.dynamo import entities

    record = entities.get_one(schema.CUSTOMER, shop.tenant, shop.customer_ids[2])
    entities.update(schema.CUSTOMER, shop.tenant, record, {"creditLimit": Decimal("0")})
    tg = define(api)
    rid = api("bulkreserve", category="tollfree", tfn_prefix="877", quantity="2")[1]["reserveId"]
    order_id = api("gen_order", reserveId=rid, trunk_id=tg)[1]["orderId"]
    api("process_order", orderId=order_id)
    assert run_worker(lambdas, deliver(client, shop)) == {"batchItemFailures": []}
    order = api("get_new_orders", orderId=order_id)[1]["Orders"][0]
    assert order["state"] == "failed" and order["history"][-1]["note"] == "insufficient balance"
    assert [t["TN"] for t in api("searchtfn", tfn_prefix="877")[1]["TFNs"]] == [
        "8775550000", "8775550001", "8775550002"]
    assert order_charges.balance_of(tenant=shop.tenant, customer_id=shop.customer_ids[2]) == 0
    assert api("process_order", orderId=order_id)[0] == 409


def test_a_worker_that_died_after_charging_finishes_on_redelivery(client, lambdas, api, shop):
    tg = define(api)
    rid = api("bulkreserve", category="landline", state="WA", quantity="2")[1]["reserveId"]
    order_id = int(api("gen_order", reserveId=rid, trunk_id=tg)[1]["orderId"])
    api("process_order", orderId=order_id)
    bodies = deliver(client, shop)
    before = order_charges.balance_of(tenant=shop.tenant, customer_id=shop.customer_ids[0])
    # the first delivery charges and then dies before activating anything
    order = order_store.get_order(shop.tenant, order_id)
    orders._charge(shop.tenant, order)
    assert order_store.get_order(shop.tenant, order_id)["status"] == "charged"
    assert run_worker(lambdas, bodies) == {"batchItemFailures": []}
    after = order_charges.balance_of(tenant=shop.tenant, customer_id=shop.customer_ids[0])
    # charged exactly once, the order's amount (whatever pricing the tenant has)
    amount = Decimal(api("get_new_orders", orderId=str(order_id))[1]["Orders"][0]["amount"])
    assert amount >= Decimal("3.50000") and before - after == amount
    numbers_ = api("getnumbers", orderno=str(order_id))[1]["data"]
    assert len(numbers_) == 2 and all(n["status"] == "1" for n in numbers_)
    assert carts.get_cart(shop.tenant, int(rid)) is None
    assert json.loads(bodies[0])["orderId"] == order_id
