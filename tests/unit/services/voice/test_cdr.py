"""A finished voice call's CDR row (services/voice/cdr.py): the Dialtone CSV
fields the pipeline reads (docs/cdrs.md), numbers in E.164 digits as a switch writes them."""
from __future__ import annotations

import csv
import io

from chalicelib.domain.calls import cdrs
from chalicelib.services.voice import cdr

CUSTOMER = {"id": 7, "accountNumber": "pizza1"}
BASE = {"id": 41, "customerId": 7, "callerId": "+441234567890", "createdAt": "2026-06-01T10:00:00.000000Z",
        "initiatedAt": "2026-06-01T10:00:00.000000Z", "answeredAt": "2026-06-01T10:00:02.000000Z",
        "endedAt": "2026-06-01T10:00:25.000000Z", "duration": 23, "state": "completed"}


def _parsed(row: list[str]) -> dict[str, str]:
    text = ",".join(cdrs.HEADER) + "\n" + _csv(row)
    return next(csv.DictReader(io.StringIO(text)))


def _csv(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


def test_an_inbound_call_names_its_ddi_in_e164_digits() -> None:
    # The DDI's inventory number is 10 digits; rate decks are keyed on E.164 prefixes (1206...).
    call = {**BASE, "direction": "inbound", "to": "+12065550100", "ddiNumber": "2065550100"}
    row = _parsed(cdr.row(tenant="T1", call=call, customer=CUSTOMER, trunk_id=None))
    assert row["direction"] == "inbound" and row["to"] == "12065550100" and row["trunk_id"] == ""
    assert row["from"] == "441234567890" and row["account"] == "pizza1"
    assert (row["billsec"], row["disposition"], row["answer"]) == ("23", "ANSWERED", BASE["answeredAt"])
    assert row["call_id"].startswith("voice-")


def test_an_outbound_call_is_on_its_trunk_and_an_unanswered_one_has_no_answer_time() -> None:
    call = {**BASE, "direction": "outbound", "to": "+441234567893", "state": "busy", "duration": 0}
    row = _parsed(cdr.row(tenant="T1", call=call, customer=CUSTOMER, trunk_id=12))
    assert (row["to"], row["trunk_id"], row["disposition"], row["answer"], row["billsec"]) == (
        "441234567893", "12", "BUSY", "", "0")


def test_an_outbound_call_of_an_account_without_a_trunk_is_charged_on_its_platform_route(aws, tenant, monkeypatch):
    """It was placed, so it is billed: its CDR names the account's platform voice
    route (made once), a termination trunk of the account the pipeline knows."""
    from chalicelib.auth import api_key
    from chalicelib.services.calls import owners
    from chalicelib.services.voice import trunks
    from chalicelib.store.voice import accounts as account_store, calls as call_store, children as child_store
    from tests.support.surfaces.voice import account_ref, make_account

    admin = api_key.authenticate(tenant["user"]["api_key"], None)
    customer = make_account(admin, name="No Trunk Ltd")
    calls = [child_store.create_child(child_store.CALL, admin.tenant_id,
                                      {**BASE, "customerId": customer["id"], "direction": "outbound",
                                       "to": "+441234567893"})
             for _ in range(3)]
    keys = {c["id"]: cdr.hand_off(tenant=admin.tenant_id, call=c) for c in calls[:2]}
    route = account_store.platform_route(admin.tenant_id, customer["id"])
    assert route is not None
    # Another worker made the route after this one looked for it: this one's claim loses, and it
    # uses the route that won (no second route).
    real, stale = account_store.platform_route, [None]
    monkeypatch.setattr(account_store, "platform_route", lambda t, c: stale.pop() if stale else real(t, c))
    keys[calls[2]["id"]] = cdr.hand_off(tenant=admin.tenant_id, call=calls[2])
    rows = [_row_of(admin.tenant_id, key) for key in keys.values()]
    assert {r["trunk_id"] for r in rows} == {str(route)}
    owner = owners.trunk_owners(tenant=admin.tenant_id)[str(route)]
    assert (owner.customer_id, owner.direction) == (customer["id"], "termination")  # rated and charged to it
    assert [t for t in owners.trunk_owners(tenant=admin.tenant_id).values() if t.customer_id == customer["id"]] \
        == [owner]
    # Not one of the account's SIP trunks in the voice API.
    assert trunks.list_trunks(principal=admin, account=account_ref(admin, customer)) == []
    assert all(call_store.get_call(admin.tenant_id, c["id"])["cdr"] == keys[c["id"]] for c in calls)


def _row_of(tenant: str, key: str) -> dict[str, str]:
    from chalicelib import settings
    from chalicelib.store.clients import client

    body = client("s3").get_object(Bucket=settings.blob_bucket(), Key=key)["Body"].read().decode()
    return next(csv.DictReader(io.StringIO(body)))
