"""Services, features, notes and numbers: children under customers, listing
conventions, expansion in batches, scope and tenant isolation."""
import pytest

from chalicelib import clock
from chalicelib.services.identity import users
from tests.support.worlds.numbers import import_landlines, own
from tests.support.surfaces.platform import Api


def customer(api, name="Acme Corp", **fields):
    response = api.post("/customers", {"customerName": name, **fields})
    assert response.status_code == 201, response.body
    return response.json


def number(admin, customer_id, value, status="active"):
    """An inventory number the customer owns (imported, reserved, activated)."""
    [item] = own(admin, customer_id, [value], status)
    return item


@pytest.mark.parametrize("plural, body", [
    ("services", {"name": "SIP trunk", "quantity": 2, "unitPrice": "9.99"}),
    ("features", {"name": "Call recording", "unitPrice": "1.5"}),
    ("notes", {"subject": "Call", "text": "Customer asked about porting"}),
])
def test_children_are_created_under_the_customer_and_addressed_directly(api, plural, body):
    owner = customer(api)
    created = api.post(f"/customers/{owner['id']}/{plural}", body)
    assert created.status_code == 201, created.body
    assert created.json["customerID"] == owner["id"] and isinstance(created.json["id"], int)
    assert api.get(f"/{plural}/{created.json['id']}").json == created.json
    assert [c["id"] for c in api.get(f"/customers/{owner['id']}/{plural}").json] == [created.json["id"]]
    assert [c["id"] for c in api.get(f"/{plural}").json] == [created.json["id"]]
    bare = api.post(f"/{plural}", {**body, "customerID": owner["id"]})
    assert bare.status_code == 201 and bare.json["customerID"] == owner["id"]


def test_service_defaults_and_exact_money(api):
    owner = customer(api)
    service = api.post(f"/customers/{owner['id']}/services", {"name": "Trunk", "unitPrice": "9.99"})
    assert service.json["statusID"] == 1 and service.json["status"] == "Pending Approval"
    assert service.json["quantity"] == 1
    assert b'"unitPrice":9.99000' in service.body


def test_child_listing_conventions(api):
    owner = customer(api)
    ids = [api.post(f"/customers/{owner['id']}/features", {"name": f"F{n}"}).json["id"] for n in range(6)]
    base = f"/customers/{owner['id']}/features"
    assert [f["id"] for f in api.get(base).json] == ids
    assert [f["id"] for f in api.get(f"{base}?idAfter={ids[1]}").json] == ids[2:]
    assert [f["id"] for f in api.get(f"{base}?limit=2&offset=1").json] == ids[1:3]
    api.post(f"/features/{ids[4]}?action=drop", {"dateDrop": "2025-01-24"})
    assert [f["id"] for f in api.get(f"{base}?active=true").json] == ids[:4] + ids[5:]
    assert [f["id"] for f in api.get(f"{base}?active=false").json] == [ids[4]]
    assert [f["id"] for f in api.get("/features?updatedSince=2000-01-01T00:00:00Z&limit=3").json] == ids[:3]
    assert api.get(f"{base}?limit=1001").status_code == 400
    assert api.get("/notes?active=true").json["error_code"] == 400001


def test_children_of_another_customer_are_not_mixed_in(api):
    first, second = customer(api, "One"), customer(api, "Two")
    mine = api.post(f"/customers/{first['id']}/notes", {"text": "one"}).json
    theirs = api.post(f"/customers/{second['id']}/notes", {"text": "two"}).json
    assert [n["id"] for n in api.get(f"/customers/{first['id']}/notes").json] == [mine["id"]]
    assert [n["id"] for n in api.get(f"/customers/{second['id']}/notes").json] == [theirs["id"]]
    assert api.get("/customers/999999/notes").status_code == 404
    assert api.post("/customers/999999/notes", {"text": "x"}).status_code == 404


def test_seed_expansion_example_with_trailing_slash(api, admin):
    acme = customer(api, "Acme Corp")
    number(admin, acme["id"], "2062190001", "active")
    number(admin, acme["id"], "2062190000", "inactive")
    response = api.get("/customers/?expandNumbers")
    assert response.status_code == 200
    [listed] = response.json
    assert listed["name"] == "Acme Corp"
    # in id order (the order they were created), not number order
    assert [(n["number"], n["status"]) for n in listed["numbers"]] == [("2062190001", "active"),
                                                                      ("2062190000", "inactive")]
    assert "numbers" not in api.get("/customers/").json[0]


def test_seed_number_active_example(api, admin):
    acme = customer(api)
    number(admin, acme["id"], "2062190000", "active")
    number(admin, acme["id"], "2062190002", "cancelled")
    response = api.get(f"/customers/{acme['id']}?expandNumbers=true&numberActive=true")
    assert [n["number"] for n in response.json["numbers"]] == ["2062190000"]
    everything = api.get(f"/customers/{acme['id']}?expandNumbers=true")
    assert len(everything.json["numbers"]) == 2
    # numberActive alone expands nothing
    assert "numbers" not in api.get(f"/customers/{acme['id']}?numberActive=true").json


def test_seed_combined_expansion_example(api, admin):
    one, two = customer(api, "One"), customer(api, "Two")
    number(admin, one["id"], "2062190001", "active")
    number(admin, two["id"], "2062190002", "inactive")
    kept = api.post(f"/customers/{two['id']}/features", {"name": "Recording"}).json
    dropped = api.post(f"/customers/{two['id']}/features", {"name": "Old"}).json
    api.post(f"/features/{dropped['id']}?action=drop", {"dateDrop": "2025-01-24"})
    api.post(f"/customers/{one['id']}/services", {"name": "Trunk"})
    response = api.get("/customers/?expandNumbers=true&numberActive=true&expandFeatures=true&featureActive=true")
    by_id = {c["id"]: c for c in response.json}
    assert [n["number"] for n in by_id[one["id"]]["numbers"]] == ["2062190001"]
    assert by_id[two["id"]]["numbers"] == []
    assert [f["id"] for f in by_id[two["id"]]["features"]] == [kept["id"]]
    assert "services" not in by_id[one["id"]]
    services = api.get("/customers?expandServices&serviceActive").json
    assert services[0]["services"] == []  # the only service is pending, not active
    assert len(api.get("/customers?expandServices").json[0]["services"]) == 1


def test_active_filters_the_main_resource_not_the_children(api, admin):
    live, gone = customer(api, "Live"), customer(api, "Gone")
    number(admin, gone["id"], "2062190009", "cancelled")
    api.post(f"/customers/{gone['id']}?action=drop", {"dateDrop": "2025-01-24"})
    inactive = api.get("/customers?active=false&expandNumbers").json
    assert [c["id"] for c in inactive] == [gone["id"]]
    assert [n["number"] for n in inactive[0]["numbers"]] == ["2062190009"]
    assert [c["id"] for c in api.get("/customers?active=true").json] == [live["id"]]


def test_expansion_flags_are_validated(api):
    customer(api)
    response = api.get("/customers?expandNumbers=maybe")
    assert response.status_code == 400 and "expandNumbers" in response.json["hint"]


def test_numbers_routes(api, admin):
    acme = customer(api)
    made = number(admin, acme["id"], "2062190000")
    shown = api.get(f"/numbers/{made['id']}").json
    assert shown["number"] == "2062190000" and shown["customerID"] == acme["id"]
    assert (shown["status"], shown["category"], shown["state"], shown["npanxx"]) == ("active", "landline", "WA",
                                                                                      "206219")
    assert b'"monthlyPrice":1.25000' in api.get(f"/numbers/{made['id']}").body
    assert [n["id"] for n in api.get(f"/customers/{acme['id']}/numbers").json] == [made["id"]]
    assert [n["id"] for n in api.get("/numbers?active=true").json] == [made["id"]]
    assert api.get("/numbers?active=false").json == []
    # numbers are not changed here: they are sold by POST (tests/surface/platform/test_number_assignment.py)
    assert api.patch(f"/numbers/{made['id']}", {"cnam": "X"}).status_code == 405


def test_numbers_have_integer_ids_stable_across_reimport(api, admin):
    acme = customer(api)
    tenant = admin.tenant_id
    import_landlines(tenant, ["2062190000", "2062190001", "2062190002"])
    first = {n: store_number(tenant, n)["id"] for n in ("2062190000", "2062190001", "2062190002")}
    assert all(isinstance(i, int) for i in first.values()) and len(set(first.values())) == 3
    again = import_landlines(tenant, ["2062190000", "2062190001", "2062190002", "2062190003"])
    assert (again["added"], again["existing"]) == (1, 3)
    assert {n: store_number(tenant, n)["id"] for n in first} == first
    assert store_number(tenant, "2062190003")["id"] > max(first.values())
    own(admin, acme["id"], ["2062190001"], imported=True)
    assert api.get(f"/numbers/{first['2062190001']}").json["id"] == first["2062190001"]
    # an inventory number no customer owns is not a billing API number
    assert api.get(f"/numbers/{first['2062190000']}").status_code == 404
    assert [n["id"] for n in api.get("/numbers").json] == [first["2062190001"]]


def store_number(tenant, value):
    from chalicelib.store.numbers import inventory as store

    return store.get_number(tenant, value)


def test_customer_numbers_in_id_order_with_paging(api, admin):
    acme, other = customer(api, "Acme"), customer(api, "Other")
    # owned in an order unlike number order: ids follow creation (import) order
    values = ["2062190007", "2062190003", "2062190005", "2062190001"]
    made = [number(admin, acme["id"], v)["id"] for v in values]
    theirs = number(admin, other["id"], "2062190009")["id"]
    assert made == sorted(made)
    base = f"/customers/{acme['id']}/numbers"
    assert [n["id"] for n in api.get(base).json] == made
    assert [n["number"] for n in api.get(base).json] == values
    assert [n["id"] for n in api.get(f"{base}?idAfter={made[1]}").json] == made[2:]
    assert [n["id"] for n in api.get(f"{base}?idAfter={made[0]}&limit=2").json] == made[1:3]
    assert [n["id"] for n in api.get(f"{base}?limit=2&offset=1").json] == made[1:3]
    assert [n["id"] for n in api.get("/numbers").json] == made + [theirs]
    assert [n["id"] for n in api.get(f"/numbers?idAfter={made[2]}&limit=1").json] == [made[3]]
    assert [n["id"] for n in api.get("/numbers?updatedSince=2000-01-01T00:00:00Z&limit=2").json] == made[:2]
    assert api.get("/numbers?updatedSince=2999-01-01T00:00:00Z").json == []


def test_number_ids_of_another_tenant_are_not_found(client, api, admin):
    acme = customer(api)
    made = number(admin, acme["id"], "2062190000")
    other = Api(client, users.create_tenant(name="Other")["user"]["api_key"])
    assert other.get(f"/numbers/{made['id']}").status_code == 404
    assert other.get("/numbers").json == []
    assert other.get(f"/customers/{acme['id']}/numbers").status_code == 404
    assert api.get("/numbers/999999").status_code == 404


def test_patch_put_and_no_changes(api):
    owner = customer(api)
    service = api.post(f"/customers/{owner['id']}/services", {"name": "Trunk", "unitPrice": "10"}).json
    patched = api.patch(f"/services/{service['id']}", {"description": "Main trunk"})
    assert patched.status_code == 200 and patched.json["description"] == "Main trunk"
    assert patched.json["name"] == "Trunk" and "X-API-No-Changes" not in patched.headers
    put = api.put(f"/services/{service['id']}", {"quantity": 3})
    assert put.json["quantity"] == 3 and put.json["description"] == "Main trunk"
    same = api.patch(f"/services/{service['id']}", {"quantity": 3, "unitPrice": 10})
    assert same.headers.get("X-API-No-Changes") == "1" and same.json == put.json


@pytest.mark.parametrize("body, code", [
    ({"id": 3}, 400005), ({"statusID": 2}, 400005), ({"customerID": 9}, 400005), ({"createdDate": "x"}, 400005),
    ({"colour": "red"}, 400004), ({"quantity": "3"}, 400001), ({"unitPrice": "1.123456"}, 400001),
    ({"name": ""}, 400001), ({"name": None}, 400001), ({"startDate": "24/01/2025"}, 400001),
])
def test_bad_child_patches_change_nothing(api, body, code):
    owner = customer(api)
    service = api.post(f"/customers/{owner['id']}/services", {"name": "Trunk"}).json
    response = api.patch(f"/services/{service['id']}", body)
    assert response.status_code == 400 and response.json["error_code"] == code, response.body
    assert api.get(f"/services/{service['id']}").json == service


@pytest.mark.parametrize("raw", ["{", "[]", "null", '{"name": }'])
def test_malformed_json_creates_nothing(api, raw):
    owner = customer(api)
    response = api.call("POST", f"/customers/{owner['id']}/services", raw=raw)
    assert response.status_code == 400 and response.json["error_code"] == 400001
    assert api.get("/services").json == []


def test_tenant_isolation_of_children(client, api):
    owner = customer(api)
    note = api.post(f"/customers/{owner['id']}/notes", {"text": "private"}).json
    other = Api(client, users.create_tenant(name="Other")["user"]["api_key"])
    assert other.get(f"/notes/{note['id']}").status_code == 404
    assert other.patch(f"/notes/{note['id']}", {"text": "mine now"}).status_code == 404
    assert other.get(f"/customers/{owner['id']}/notes").status_code == 404
    assert other.post(f"/customers/{owner['id']}/notes", {"text": "x"}).status_code == 404
    assert other.get("/notes").json == []
    assert api.get(f"/notes/{note['id']}").json["text"] == "private"


def test_customer_scope_guards_children(client, api, tenant, admin):
    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"mgr-{t}", api_only=True, customer_access="manager")
    managed = customer(api, "Managed", accountManagerID=manager["id"])
    other = customer(api, "Other")
    mine = api.post(f"/customers/{managed['id']}/services", {"name": "Mine"}).json
    theirs = api.post(f"/customers/{other['id']}/services", {"name": "Theirs"}).json
    theirs_number = number(admin, other["id"], "2062190001")
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    assert as_manager.get(f"/numbers/{theirs_number['id']}").status_code == 404
    assert as_manager.get(f"/customers/{other['id']}/numbers").status_code == 404
    assert api.get(f"/numbers/{theirs_number['id']}").status_code == 200
    assert [s["id"] for s in as_manager.get("/services").json] == [mine["id"]]
    assert as_manager.get(f"/services/{theirs['id']}").status_code == 404
    assert as_manager.patch(f"/services/{theirs['id']}", {"name": "x"}).status_code == 404
    assert as_manager.post(f"/services/{theirs['id']}?action=approve", {}).status_code == 404
    assert as_manager.get(f"/customers/{other['id']}/services").status_code == 404
    assert as_manager.post(f"/customers/{other['id']}/services", {"name": "x"}).status_code == 404
    assert as_manager.get("/numbers").json == []
    expanded = as_manager.get("/customers?expandServices&expandNumbers").json
    assert [(c["id"], [s["id"] for s in c["services"]]) for c in expanded] == [(managed["id"], [mine["id"]])]
    assert api.get(f"/services/{theirs['id']}").json["name"] == "Theirs"


def test_read_only_users_cannot_create_children(client, api, tenant):
    t = tenant["tenant"]["id"]
    owner = customer(api)
    reader = users.create_user(tenant=t, username=f"ro-{t}", api_only=True, can_write=False)
    as_reader = Api(client, users.issue_api_key(tenant=t, user_id=reader["id"]))
    assert as_reader.get(f"/customers/{owner['id']}/notes").status_code == 200
    refused = as_reader.post(f"/customers/{owner['id']}/notes", {"text": "x"})
    assert refused.status_code == 403 and refused.json["error_code"] == 403001


def test_payments_are_read_like_other_children(client, api, tenant, admin):
    from datetime import date

    from chalicelib.domain.money.cards import Card
    from chalicelib.services.money import payments

    owner = customer(api)
    other = customer(api, "Other")
    card = Card(number="4242424242424242", exp_month=12, exp_year=date.today().year + 1, cvv="123",
                first_name="Ada", last_name="L")
    paid = payments.make_payment(principal=admin, customer={"id": owner["id"], "balance": 0}, card=card,
                                 amount="12.5", idempotency_key="p-1")
    listed = api.get(f"/customers/{owner['id']}/payments").json
    assert [(p["id"], p["amount"], p["cardLast4"]) for p in listed] == [(paid["id"], 12.5, "4242")]
    assert api.get(f"/payments/{paid['id']}").json == listed[0]
    assert api.get(f"/customers/{other['id']}/payments").json == []
    assert api.post(f"/customers/{owner['id']}/payments", {"amount": "1"}).status_code == 405
    stranger = Api(client, users.create_tenant(name="Stranger")["user"]["api_key"])
    assert stranger.get(f"/payments/{paid['id']}").status_code == 404


def test_invoices_are_read_with_integer_ids_listing_rules_and_scope(client, api, tenant, admin):
    from decimal import Decimal

    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.services.money import invoices
    from chalicelib.services.money import ledger

    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"inv-mgr-{t}", api_only=True, customer_access="manager")
    managed = customer(api, "Managed", accountManagerID=manager["id"])
    other = customer(api, "Other")
    for n, (who, day, amount) in enumerate(((managed, "2025-01-10", "5"), (other, "2025-01-11", "7"),
                                            (managed, "2025-02-03", "-1.5"), (other, "2025-02-04", "2"),
                                            (managed, "2025-03-01", "1"), (other, "2025-03-01", "1"))):
        with clock.frozen(f"{day}T09:00:{n:02d}"):
            ledger.post_movement(tenant=t, account=who["id"], activity=ledger_rules.ADJUSTMENT,
                                 amount=Decimal(amount), reference=f"r{n}", idempotency_key=f"k{n}")
    for month in ("2025-01", "2025-02"):
        invoices.close_month(tenant=t, month=month)
    listed = api.get("/invoices").json
    assert [(i["customerID"], i["periodStart"]) for i in listed] == [
        (managed["id"], "2025-01-01"), (other["id"], "2025-01-01"), (managed["id"], "2025-02-01"),
        (other["id"], "2025-02-01")]
    ids = [i["id"] for i in listed]
    assert ids == sorted(ids) and all(isinstance(i, int) for i in ids)
    feb = listed[2]
    assert (feb["openingBalance"], feb["adjustments"], feb["closingBalance"], feb["invoiceDate"]) == \
        (5, -1.5, 3.5, "2025-02-28")
    assert api.get(f"/invoices/{feb['id']}").json == feb
    assert api.get(f"/customers/{managed['id']}/invoices").json == [listed[0], feb]
    assert api.get(f"/invoices?idAfter={ids[1]}&limit=1").json == [feb]
    assert api.get("/invoices?offset=3").json == [listed[3]]
    assert api.get("/invoices?updatedSince=2000-01-01T00:00:00Z").json == listed
    assert api.get("/invoices?updatedSince=2999-01-01T00:00:00Z").json == []
    assert api.get("/invoices/999999").status_code == 404
    assert api.post(f"/customers/{managed['id']}/invoices", {}).status_code == 405
    # Scope: an account manager sees the invoices of the customers they manage.
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    assert [i["id"] for i in as_manager.get("/invoices").json] == [listed[0]["id"], feb["id"]]
    assert as_manager.get(f"/invoices/{listed[1]['id']}").status_code == 404
    assert as_manager.get(f"/customers/{other['id']}/invoices").status_code == 404
    stranger = Api(client, users.create_tenant(name="Stranger")["user"]["api_key"])
    assert stranger.get(f"/invoices/{feb['id']}").status_code == 404 and stranger.get("/invoices").json == []


def test_an_invoice_asked_for_as_pdf_redirects_to_its_pdf_within_scope(client, api, tenant, admin):
    from decimal import Decimal

    import requests

    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.services.money import invoices
    from chalicelib.services.money import ledger

    t = tenant["tenant"]["id"]
    billed = customer(api, "Billed")
    with clock.frozen("2025-04-10T09:00:00"):
        ledger.post_movement(tenant=t, account=billed["id"], activity=ledger_rules.ADJUSTMENT, amount=Decimal("3"),
                             reference="r", idempotency_key="pdf-1")
    invoices.close_month(tenant=t, month="2025-04")
    [invoice] = api.get(f"/customers/{billed['id']}/invoices").json
    # JSON stays the default; any other Accept is sent to the PDF.
    assert api.get(f"/invoices/{invoice['id']}").json == invoice
    for accept in ("application/pdf", "application/octet-stream", "*/*"):
        answer = api.get(f"/invoices/{invoice['id']}", headers={"Accept": accept})
        assert answer.status_code == 303 and answer.headers["Cache-Control"] == "no-store", accept
    pdf = requests.get(answer.headers["Location"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert f"invoice-{billed['accountNumber']}-2025-04.pdf" in pdf.headers.get("Content-Disposition", "")
    # Another tenant's caller learns nothing, PDF or not.
    stranger = Api(client, users.create_tenant(name="Stranger")["user"]["api_key"])
    assert stranger.get(f"/invoices/{invoice['id']}", headers={"Accept": "application/pdf"}).status_code == 404
