"""Porting in (services/numbers/porting.py): the portability check, a port
order for the accepted numbers, and its state moves; completing it makes its
numbers the customer's active numbers, all in one transaction."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.domain.numbers import porting as rules
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidStateError, ValidationError
from chalicelib.services.numbers import inventory, porting
from chalicelib.store.numbers import inventory as number_store
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.numbers import porting as store
from tests.support.surfaces.carrier import inventory_csv
from tests.support.worlds.money import admin, new_customer

TABLE = ("number,portable,reason,losing_carrier,min_port_days\n"
         "15035550100,yes,,Bandwidth,5\n15035550101,yes,,Lumen,3\n15035550102,no,port-out freeze,Lumen,5\n"
         "2062190000,yes,,Lumen,1\nnot-a-number,yes,,Lumen,1\n")


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("loa.pdf", b"%PDF-1.4 signed")
    return buffer.getvalue()


@pytest.fixture()
def carrier(tenant):
    principal = admin(tenant)
    loaded = porting.import_portability(tenant=principal.tenant_id, lines=io.StringIO(TABLE))
    assert loaded["loaded"] == 4 and [r["line"] for r in loaded["rejections"]] == [6]
    # 2062190000 is portable by the table but already ours.
    inventory.import_numbers(tenant=principal.tenant_id, lines=io.StringIO(inventory_csv([
        ("2062190000", "landline", "WA", "SEATTLE", "SEATTLE", "1", "1")])))
    return principal


def port_order(principal, customer, numbers):
    return porting.create_port_order(
        principal=principal, customer=customer, numbers=numbers, category="landline", subscriber_type="business",
        authorizing_person="Ada Lovelace", loa=a_zip(), carrier_doc=a_zip(), requested_foc=None,
        details={"subscriberLastName": "Lovelace", "unknownField": "dropped"}, today=date(2026, 3, 2))


def test_the_check_accepts_portable_numbers_and_says_why_others_are_not(carrier):
    verdict = porting.check(principal=carrier, numbers=["5035550100", "5035550102", "5035550199", "2062190000"])
    assert [r["number"] for r in verdict["accepted"]] == ["5035550100"]
    assert verdict["accepted"][0]["losingCarrier"] == "Bandwidth" and verdict["accepted"][0]["minPortDays"] == 5
    assert verdict["rejected"] == {"5035550102": "port-out freeze",
                                   "5035550199": "not found in the portability table",
                                   "2062190000": "already in this carrier's inventory"}


def test_a_port_order_holds_the_accepted_numbers_only(carrier):
    acme = new_customer(carrier)
    order = port_order(carrier, acme, ["5035550100", "5035550101", "5035550102"])
    assert order["numbers"] == ["5035550100", "5035550101"] and order["rejected"] == {"5035550102": "port-out freeze"}
    assert order["status"] == rules.SUBMITTED and order["losingCarrierName"] == "Bandwidth, Lumen"
    # five business days after Monday 2 March 2026 (the longest minimum of its numbers)
    assert order["requestedFocDate"] == "2026-03-09 09:00:00"
    assert order["subscriberLastName"] == "Lovelace" and "unknownField" not in order
    assert porting.list_port_orders(principal=carrier, customer=acme) == [order]
    with pytest.raises(ValidationError):
        port_order(carrier, acme, ["5035550102"])  # nothing portable: no order
    assert len(porting.list_port_orders(principal=carrier, customer=acme)) == 1


def test_a_completed_port_order_makes_its_numbers_the_customers(carrier):
    acme = new_customer(carrier)
    order = port_order(carrier, acme, ["5035550100", "5035550101"])
    with pytest.raises(InvalidStateError):  # FOC first
        porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"], state=rules.COMPLETE)
    confirmed = porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"],
                                             state=rules.FOC_CONFIRMED)
    assert confirmed["actualFocDate"] == order["requestedFocDate"]
    assert owned_numbers.owned(carrier.tenant_id, acme["id"]) == []
    done = porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"], state=rules.COMPLETE,
                                        by="ops")
    assert done["status"] == rules.COMPLETE and done["lastModifiedBy"] == "ops"
    assert [h["status"] for h in done["history"]] == [rules.SUBMITTED, rules.FOC_CONFIRMED, rules.COMPLETE]
    owned = {i["number"]: i for i in owned_numbers.owned(carrier.tenant_id, acme["id"])}
    assert sorted(owned) == ["5035550100", "5035550101"]
    assert all(i["status"] == number_rules.ACTIVE and i["portOrderId"] == order["id"] for i in owned.values())
    for number, item in owned.items():  # each with its integer id and id lookup
        assert owned_numbers.number_by_id(carrier.tenant_id, item["id"])["number"] == number
    with pytest.raises(InvalidStateError):
        porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"], state=rules.CANCELLED)


def test_a_port_whose_number_is_already_in_the_inventory_writes_nothing(carrier):
    acme = new_customer(carrier)
    order = port_order(carrier, acme, ["5035550100", "5035550101"])
    porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"], state=rules.FOC_CONFIRMED)
    # Meanwhile one of its numbers is stocked another way.
    inventory.import_numbers(tenant=carrier.tenant_id, lines=io.StringIO(inventory_csv([
        ("5035550101", "landline", "OR", "PORTLAND", "PORTLAND", "1", "1")])))
    with pytest.raises(ConcurrentUpdateError):
        porting.set_port_order_state(tenant=carrier.tenant_id, order_id=order["id"], state=rules.COMPLETE)
    assert store.get(carrier.tenant_id, order["id"])["status"] == rules.FOC_CONFIRMED
    assert number_store.get_number(carrier.tenant_id, "5035550100") is None
    assert number_store.get_number(carrier.tenant_id, "5035550101")["status"] == number_rules.AVAILABLE


@pytest.mark.parametrize("crash_before", ["s3.PutObject#2", "dynamodb.TransactWriteItems", "s3.PutObjectTagging",
                                          "dynamodb.DeleteItem"])
def test_a_port_order_that_crashes_leaves_no_document_without_its_order(carrier, crash_before):
    """The documents are put with the pending tag (the lifecycle rule expires
    them), then the order is written with their settling: wherever the
    process dies, once the settle_pending_files schedule ran every document
    under the tenant belongs to an order or still carries the pending tag,
    and every order's documents are there, marked recorded."""
    from chalicelib import settings
    from chalicelib.store import blobs, pending_files
    from chalicelib.store.clients import client as aws_client
    from chalicelib.workers import pending_files as schedule
    from tests.support.injection.faults import CRASH, Crash, Fault, Faults

    customer = new_customer(carrier)
    with Faults() as faults:
        faults.record()
        port_order(carrier, customer, ["5035550100"])
        name, _, nth = crash_before.partition("#")
        at = [n for n, call in enumerate(faults.calls) if call == name][int(nth or 1) - 1]
        faults.arm(Fault(CRASH, at))
        with pytest.raises(Crash):
            port_order(carrier, customer, ["5035550101"])
    schedule.sweep()
    tenant = carrier.tenant_id
    orders = store.orders_of(tenant, customer["id"])
    named = {f"tenants/{tenant}/{o[k]}" for o in orders for k in ("loaKey", "carrierDocKey")}
    listed = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{tenant}/portin/")
    objects = {o["Key"] for o in listed.get("Contents", [])}
    assert named <= objects
    prefix = f"tenants/{tenant}/"
    for key in objects:  # named: recorded; else left to the lifecycle rule
        assert (blobs.upload_tag(tenant, key[len(prefix):]) == blobs.PENDING) == (key not in named), key
    for order in orders:
        for key in ("loaKey", "carrierDocKey"):
            assert zipfile.ZipFile(io.BytesIO(blobs.get(tenant, order[key]))).read("loa.pdf") == b"%PDF-1.4 signed"
    assert not pending_files.pending(tenant)
