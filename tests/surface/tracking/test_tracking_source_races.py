"""A source's number sale and transaction against what can happen between
them: a drop of the customer, another source taking the number, a failure of
the transaction itself (injected through botocore's events, tests/support/injection/faults.py)."""
from __future__ import annotations

from decimal import Decimal

from chalicelib.domain.customers import accounts as customer_rules
from chalicelib.services.customers import accounts
from chalicelib.services.tracking import customers as tracking_customers, sources
from chalicelib.store.tracking import pools as pool_store, sources as source_store
from chalicelib.store.dynamo.table import Transaction
from chalicelib.store.numbers import inventory as number_store
from tests.support.injection.faults import SERVER_ERROR, Fault, Faults
from tests.support.worlds.money import admin, ledger_sum
from tests.support.worlds.tracking import NUMBERS

SEARCH = {"name": "Ads", "areacode": "206", "state": "WA"}


def _active_sources(tenant_id: str, customer_id: int) -> list[dict]:
    return [s for s in source_store.sources_of(tenant_id, customer_id) if s.get("active")]


def _sold_to(tenant_id: str, customer_id: int) -> list[str]:
    return [n for n in NUMBERS if (number_store.get_number(tenant_id, n) or {}).get("customerId") == customer_id]


def test_a_source_created_after_the_drops_check_stops_the_drop(tracking, shop, tenant, monkeypatch):
    t, cid = shop["tenant"], int(shop["customer_id"])
    listed = source_store.sources_of
    raced: list[dict] = []

    def listed_then_a_source_is_created(tenant_id, customer_id):
        found = listed(tenant_id, customer_id)
        if not raced:  # between the drop's check and its write
            raced.append(sources.create_source(principal=admin(tenant), customer_id=cid,
                                               given={"name": "Racer", "number": NUMBERS[4]}))
        return found

    monkeypatch.setattr(tracking_customers.source_store, "sources_of", listed_then_a_source_is_created)
    answer = tracking.delete(f"/customers/{cid}")
    assert raced and answer.status_code == 403, answer.text
    assert answer.json["errors"][0]["field"] == "customer_id"
    assert accounts.get_customer(principal=admin(tenant), customer_id=cid).get("status", 1) != \
        customer_rules.STATUS_EX_CUSTOMER
    assert [s["id"] for s in _active_sources(t, cid)] == [raced[0]["id"]]
    # Once its source is gone, the drop goes through (the count went back down).
    monkeypatch.undo()
    assert tracking.delete(f"/sources/{raced[0]['id']}").status_code == 200
    assert tracking.delete(f"/customers/{cid}").status_code == 200


def test_a_drop_after_the_sale_stops_the_source(tracking, shop, tenant, monkeypatch):
    t, cid = shop["tenant"], int(shop["customer_id"])
    take = sources._take_number

    def taken_then_the_customer_is_dropped(principal, customer, number, **kw):
        held = take(principal, customer, number, **kw)
        tracking_customers.drop_customer(principal=admin(tenant), customer_id=cid)  # no active source yet: allowed
        return held

    monkeypatch.setattr(sources, "_take_number", taken_then_the_customer_is_dropped)
    answer = tracking.post(f"/customers/{cid}/sources", data={"name": "Late", "number": NUMBERS[0]})
    assert answer.status_code == 404, answer.text
    assert accounts.get_customer(principal=admin(tenant), customer_id=cid)["status"] == \
        customer_rules.STATUS_EX_CUSTOMER
    assert _active_sources(t, cid) == [] and source_store.live_holder(t, NUMBERS[0]) is None


def _first_number_stolen(monkeypatch, tenant: str, customer_id: int) -> list[str]:
    """The first number the request takes is then held by another source
    (its transaction claims it before ours); returns the stolen numbers."""
    take = sources._take_number
    stolen: list[str] = []

    def taken_then_held_by_someone_else(principal, customer, number, **kw):
        held = take(principal, customer, number, **kw)
        if not stolen:
            stolen.append(number)
            tx = Transaction()
            source_store.add_holding(tx, tenant, number=number, source_id=999_999, customer_id=customer_id,
                                     since="2026-01-01T00:00:00Z", failure=None)
            tx.execute()
        return held

    monkeypatch.setattr(sources, "_take_number", taken_then_held_by_someone_else)
    return stolen


def test_a_number_taken_by_another_source_meanwhile_moves_on_to_the_next_candidate(tracking, shop, monkeypatch):
    t, cid = shop["tenant"], int(shop["customer_id"])
    stolen = _first_number_stolen(monkeypatch, t, cid)
    answer = tracking.post(f"/customers/{cid}/sources", data=SEARCH)
    assert answer.status_code == 200, answer.text
    assert stolen and answer.json["sources"][0]["number"] != "+1" + stolen[0]


def test_a_failed_source_transaction_after_the_sale_is_completed_by_the_same_request_again(tracking, shop):
    t, cid = shop["tenant"], int(shop["customer_id"])
    path = f"/customers/{cid}/sources"
    with Faults() as faults:
        faults.record()
        assert tracking.post(path, data={**SEARCH, "name": "Warm"}).status_code == 200  # the calls of a clean run
        source_tx = max(i for i, call in enumerate(faults.calls) if call == "dynamodb.TransactWriteItems")
        sold_before, charged_before = _sold_to(t, cid), ledger_sum(t, cid)
        faults.arm(Fault(SERVER_ERROR, source_tx))
        failed = tracking.post(path, data=SEARCH)
        faults.arm(None)
    assert failed.status_code >= 500 and faults.fired, failed.text
    [orphan] = [n for n in _sold_to(t, cid) if n not in sold_before]  # sold and charged, held by nothing
    assert source_store.live_holder(t, orphan) is None
    charged = ledger_sum(t, cid)
    assert charged == charged_before - Decimal("1.75")
    retried = tracking.post(path, data=SEARCH)
    assert retried.status_code == 200, retried.text
    assert retried.json["sources"][0]["number"] == "+1" + orphan  # completed, not bought again
    assert ledger_sum(t, cid) == charged and len(_sold_to(t, cid)) == len(sold_before) + 1
    assert source_store.live_holder(t, orphan)["sourceId"] == int(retried.json["sources"][0]["source_id"])
    assert source_store.pending_sales(t, cid, criteria=sources.criteria_key(SEARCH)) == []


def test_a_pool_number_taken_by_another_source_meanwhile_moves_on_to_the_next(tracking, shop, monkeypatch):
    t, cid = shop["tenant"], int(shop["customer_id"])
    sid = tracking.post(f"/customers/{cid}/sources", data={"name": "Web", "number": NUMBERS[0]}).json["sources"][0]["source_id"]
    stolen = _first_number_stolen(monkeypatch, t, cid)
    answer = tracking.post(f"/sources/{sid}/number", data={"quantity": "1", "areacode": "206", "state": "WA"})
    assert answer.status_code == 200, answer.text
    assert answer.json["sources"][0]["pool_size"] == "1"
    pool = [p["number"] for p in pool_store.pool(t, int(sid))]
    assert len(pool) == 1 and pool[0] != stolen[0] and source_store.live_holder(t, pool[0])["sourceId"] == int(sid)
