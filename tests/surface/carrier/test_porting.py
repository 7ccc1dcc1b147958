"""Porting on the carrier API: check_lnp, generate_lnp_order (multipart with
ZIP documents), staff state changes, get_lnp_orders."""
import io
import json
import zipfile
from datetime import date

import pytest

from chalicelib.domain.numbers import porting as rules
from chalicelib.services.numbers import porting
from tests.support.surfaces.carrier import Carrier, chalice_sender, make_shop


# The shop (inventory, customers, keys) is built once for the module.
pytestmark = pytest.mark.aws_state_shared_by_module


@pytest.fixture(scope="module")
def shop(aws):
    made = make_shop([("2062190000", "landline", "WA", "SEATTLE", "SEATTLE", "1", "1")])
    table = "number,portable,reason,losing_carrier,min_port_days\n" \
            "15035550100,yes,,Bandwidth,5\n15035550101,yes,,Bandwidth,3\n15035550102,no,port-out freeze,Lumen,5\n15035550103,yes,,Lumen,2\n"
    assert porting.import_portability(tenant=made.tenant, lines=io.StringIO(table))["loaded"] == 4
    return made


@pytest.fixture()
def api(client, shop):
    return Carrier(chalice_sender(client), shop.keys[shop.accounts[0]], shop.accounts[0])


def a_zip(name="loa.pdf"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, b"%PDF-1.4 signed")
    return buffer.getvalue()


def multipart(fields, files):
    boundary = "----dialtone-test"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/zip\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def lnp_order(client, shop, account=0, files=None, **fields):
    body, content_type = multipart({
        "token": shop.keys[shop.accounts[account]], "accountno": shop.accounts[account],
        "numbers": "15035550100,15035550101,15035550102,12062190000", "category": "landline",
        "subscriberType": "residential", "loaAuthorizingPerson": "Sunny Summertime",
        "subscriberFirstName": "Sunny", "subscriberLastName": "Summertime", "addressCity": "Portland",
        "addressZip": "97230", **fields},
        files if files is not None else {"loa_doc": ("loa.zip", a_zip()), "carrier_doc": ("docs.zip", a_zip("bill.pdf"))})
    response = client.post("/carrier/generate_lnp_order", body=body, headers={"Content-Type": content_type})
    return response.status_code, json.loads(response.body)


def test_check_lnp_accepts_and_rejects_with_reasons(api):
    status, body = api("check_lnp", numbers="15035550100,15035550102,15035550199,12062190000")
    assert status == 200 and body["accepted"] == ["5035550100"]
    assert body["rejected"] == ["5035550102", "5035550199", "2062190000"]
    assert body["reasons"]["5035550102"] == "port-out freeze"
    assert api("check_lnp", numbers="150355501") == (404, {"status": "404", "error": "Invalid numbers"})


def test_foc_date_rules():
    today = date(2026, 11, 20)  # a Friday
    assert rules.earliest_foc(today, 5) == date(2026, 11, 25)
    assert rules.earliest_foc(date(2026, 11, 23), 3) == date(2026, 11, 27)  # Thanksgiving is the 26th
    with pytest.raises(Exception):
        rules.parse_foc("2026-11-28 10:00:00", today=today, min_port_days=1)  # a Saturday
    with pytest.raises(Exception):
        rules.parse_foc("2026-11-24 10:00:00", today=today, min_port_days=5)  # too early


def test_port_order_walks_its_states_and_completes_into_active_numbers(client, api, shop):
    status, body = lnp_order(client, shop)
    assert status == 200 and body["success"] == "Order Generated Successfully.", body
    assert body["acceptedTns"] == ["5035550100", "5035550101"] and body["orderType"] == "Portin"
    assert body["rejectedTns"] == ["5035550102", "2062190000"]
    order_no = body["orderNo"]
    _, listed = api("get_lnp_orders", orderId=order_no)
    order = listed["Orders"][0]
    assert order["loa"].startswith("http") and "loa.zip" in order["loa"] and order["state"] == "submitted"
    assert order["subscriberFirstName"] == "Sunny" and order["addressZip"] == "97230"
    assert api("get_lnp_orders", orderId="999")[1]["error"] == "Invalid orderId"
    porting.set_port_order_state(tenant=shop.tenant, order_id=int(order_no), state="foc_confirmed")
    with pytest.raises(Exception):
        porting.set_port_order_state(tenant=shop.tenant, order_id=int(order_no), state="submitted")
    porting.set_port_order_state(tenant=shop.tenant, order_id=int(order_no), state="complete")
    order = api("get_lnp_orders", orderId=order_no)[1]["Orders"][0]
    assert [h["status"] for h in order["history"]] == ["submitted", "foc_confirmed", "complete"]
    owned = api("getnumbers", status="1")[1]["data"]
    assert [(n["didnumber"], n["orderType"]) for n in owned] == [("5035550100", "Portin"), ("5035550101", "Portin")]
    # ported-in numbers get integer ids, each with its id lookup item
    from chalicelib.store.numbers import inventory as number_store
    from chalicelib.store.numbers import owned as owned_numbers

    items = [number_store.get_number(shop.tenant, n) for n in ("5035550100", "5035550101")]
    ids = [i["id"] for i in items]
    assert all(isinstance(i, int) for i in ids) and ids[0] < ids[1]
    assert [owned_numbers.number_by_id(shop.tenant, i)["number"] for i in ids] == ["5035550100", "5035550101"]


@pytest.mark.parametrize("fields, files, error", [
    ({"requestedFocDate": "2099-01-03 10:00:00"}, None, "Invalid requestedFocDate"),  # a Saturday
    ({"requestedFocDate": "2099-12-25 10:00:00"}, None, "Invalid requestedFocDate"),  # Christmas
    ({"requestedFocDate": "2020-01-02 10:00:00"}, None, "Invalid requestedFocDate"),  # too early
    ({}, {"loa_doc": ("loa.pdf", b"%PDF-1.4 not a zip"), "carrier_doc": ("d.zip", a_zip())}, "Invalid loa_doc"),
    ({}, {"loa_doc": ("loa.zip", a_zip())}, "Invalid carrier_doc"),
    ({"subscriberType": "alien"}, None, "Invalid subscriberType"),
    ({"numbers": "15035550102"}, None, "Invalid numbers"),
])
def test_bad_port_orders_change_nothing(client, api, shop, fields, files, error):
    before = [o["orderno"] for o in api("get_lnp_orders")[1]["Orders"]]
    fields = {"numbers": "15035550103", **fields}
    assert lnp_order(client, shop, account=1, files=files, **fields) == (404, {"status": "404", "error": error})
    other = Carrier(chalice_sender(client), shop.keys[shop.accounts[1]], shop.accounts[1])
    assert other("get_lnp_orders")[1]["Orders"] == [] and [o["orderno"] for o in api("get_lnp_orders")[1]["Orders"]] == before
