"""POST /customers/{id}/numbers (the seed's example of adding a linked
resource) and POST /numbers: an available inventory number sold to the
customer, charged as a carrier order; bad inputs change nothing.
Concurrent sales of one number: tests/integration/platform/test_number_assignment_race.py."""
from decimal import Decimal


from chalicelib.services.numbers import orders


from chalicelib.services.identity import users
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as store
from tests.support.worlds.numbers import import_landlines, own
from tests.support.surfaces.platform import Api


def customer(api, name="Acme Corp", credit_limit="-100", **fields):
    response = api.post("/customers", {"customerName": name, "creditLimit": credit_limit, **fields})
    assert response.status_code == 201, response.body
    return response.json


def snapshot(api, admin, numbers, customer_ids):
    """Everything an assignment writes: the numbers, the availability counters,
    the customers (balance) and their orders and number lists."""
    tenant = admin.tenant_id
    return {
        "numbers": {n: store.get_number(tenant, n) for n in numbers},
        "counters": sorted((c["SK"], c["count"]) for c in store.counters(tenant, "")),
        "customers": [api.get(f"/customers/{c}").json for c in customer_ids],
        "orders": [orders.list_orders(principal=admin, customer={"id": c}) for c in customer_ids],
        "owned": [api.get(f"/customers/{c}/numbers").json for c in customer_ids],
    }


def test_post_to_customer_numbers_sells_an_available_number(api, admin):
    acme = customer(api)
    import_landlines(admin.tenant_id, ["2062190000", "2062190001"])
    before = {c["SK"]: c["count"] for c in store.counters(admin.tenant_id, "")}
    response = api.post(f"/customers/{acme['id']}/numbers", {"number": "2062190000"})
    assert response.status_code == 201, response.body
    sold = response.json
    assert (sold["number"], sold["customerID"], sold["status"]) == ("2062190000", acme["id"], "active")
    assert isinstance(sold["id"], int) and isinstance(sold["orderID"], int)
    # The answer is the created resource, exactly as GET shows it.
    shown = api.get(f"/numbers/{sold['id']}").json
    assert {k: v for k, v in shown.items() if k != "updatedDate"} == \
        {k: v for k, v in sold.items() if k != "updatedDate"}
    assert [n["id"] for n in api.get(f"/customers/{acme['id']}/numbers").json] == [sold["id"]]
    assert [n["number"] for n in api.get(f"/customers/{acme['id']}?expandNumbers").json["numbers"]] == ["2062190000"]
    # Out of availability, counted exactly once.
    after = {c["SK"]: c["count"] for c in store.counters(admin.tenant_id, "")}
    assert after == {k: v - 1 for k, v in before.items()}
    # Charged as a carrier order: setup 0.50 + first month 1.25, no per-order pricing set.
    assert Decimal(str(api.get(f"/customers/{acme['id']}").json["balance"])) == Decimal("-1.75")
    [order] = orders.list_orders(principal=admin, customer=acme)
    assert (order["id"], order["status"], order["numbers"], order["amount"]) == (
        sold["orderID"], orders.COMPLETE, ["2062190000"], Decimal("1.75"))


def test_post_numbers_with_customer_id_and_order_pricing(api, admin):
    acme = customer(api)
    import_landlines(admin.tenant_id, ["2062190002"])
    orders.set_order_pricing(tenant=admin.tenant_id, values={
        "perOrderCost": Decimal("1.50"), "taxRate": Decimal("0.10"), "otherCharges": Decimal("0"),
        "discountRate": Decimal("0")})
    response = api.post("/numbers", {"number": "+12062190002", "customerID": acme["id"]})
    assert response.status_code == 201, response.body
    assert response.json["number"] == "2062190002"
    # (1.75 + 1.50) plus 10% tax: the same price gen_order computes.
    assert Decimal(str(api.get(f"/customers/{acme['id']}").json["balance"])) == Decimal("-3.575")


def test_free_number_is_sold_without_a_ledger_movement(api, admin):
    acme = customer(api, credit_limit="0")
    from tests.support.surfaces.carrier import inventory_csv
    from chalicelib.services.numbers import inventory
    import io

    inventory.import_numbers(tenant=admin.tenant_id, lines=io.StringIO(inventory_csv(
        [("2062190003", "landline", "WA", "SEATTLE", "SEATTLE", "0", "0")])))
    response = api.post(f"/customers/{acme['id']}/numbers", {"number": "2062190003"})
    assert response.status_code == 201, response.body
    assert api.get(f"/customers/{acme['id']}").json["balance"] == 0


def test_bad_assignments_are_refused_and_write_nothing(api, admin, client):
    acme = customer(api)
    dropped = customer(api, "Gone Ltd")
    assert api.post(f"/customers/{dropped['id']}?action=drop", {"dateDrop": "2025-01-24"}).status_code == 200
    broke = customer(api, "Broke Ltd", credit_limit="0")
    import_landlines(admin.tenant_id, ["2062190010", "2062190011", "2062190012"])
    own(admin, acme["id"], ["2062190011"], imported=True)
    from chalicelib.services.numbers import reservations

    reservations.reserve_numbers(principal=admin, customer=acme, numbers=["2062190012"])
    # Another tenant's available number is not ours to sell (recording it as an
    # own number is tests/surface/platform/test_number_states.py); a dropped
    # customer may not have it either.
    other = users.create_tenant(name="Other")
    import_landlines(other["tenant"]["id"], ["2062190013"])
    theirs_before = store.get_number(other["tenant"]["id"], "2062190013")
    # A user who sees only the customers it manages.
    manager = users.create_user(tenant=admin.tenant_id, username=f"mgr-{admin.tenant_id}",
                                customer_access="manager", api_only=True)
    manager_key = users.issue_api_key(tenant=admin.tenant_id, user_id=manager["id"])
    scoped = Api(client, manager_key)
    reader = users.create_user(tenant=admin.tenant_id, username=f"ro-{admin.tenant_id}", api_only=True,
                               can_write=False)
    read_only = Api(client, users.issue_api_key(tenant=admin.tenant_id, user_id=reader["id"]))

    watched = ["2062190010", "2062190011", "2062190012"]
    ids = [acme["id"], dropped["id"], broke["id"]]
    before = snapshot(api, admin, watched, ids)
    base = f"/customers/{acme['id']}/numbers"
    cases = [
        (api, base, {"number": "2062190011"}, 409, 409004),          # already sold
        (api, base, {"number": "2062190012"}, 409, 409004),          # in a cart
        (api, base, {"number": "12345"}, 400, 400001),               # not a number
        (api, base, {"number": 2062190010}, 400, 400001),            # not a string
        (api, base, {}, 400, 400001),                                # missing
        (api, base, {"number": "2062190010", "status": "active"}, 400, 400005),
        (api, base, {"number": "2062190010", "trunk": 1}, 400, 400004),
        (api, base, {"number": "2062190010", "customerID": dropped["id"]}, 400, 400001),
        (api, "/numbers", {"number": "2062190010"}, 400, 400001),    # POST /numbers needs customerID
        (api, "/customers/999999/numbers", {"number": "2062190010"}, 404, 404001),
        (api, f"/customers/{dropped['id']}/numbers", {"number": "2062190010"}, 409, 409003),
        (api, f"/customers/{dropped['id']}/numbers", {"number": "2062190013"}, 409, 409003),
        (api, f"/customers/{broke['id']}/numbers", {"number": "2062190010"}, 402, 402001),
        (scoped, base, {"number": "2062190010"}, 404, 404001),       # outside the user's scope
        (scoped, "/numbers", {"number": "2062190010", "customerID": acme["id"]}, 404, 404001),
        (read_only, base, {"number": "2062190010"}, 403, 403001),
    ]
    for caller, path, body, status, code in cases:
        response = caller.post(path, body)
        assert (response.status_code, response.json["error_code"]) == (status, code), (path, body, response.body)
    assert api.post(base, raw="{not json").status_code == 400
    assert snapshot(api, admin, watched, ids) == before
    assert store.get_number(other["tenant"]["id"], "2062190013") == theirs_before
    # And the number that was refused to all of them can still be sold.
    assert api.post(base, {"number": "2062190010"}).status_code == 201


def test_expired_cart_gives_its_number_back_before_the_sale(api, admin, monkeypatch):
    acme = customer(api)
    import_landlines(admin.tenant_id, ["2062190020"])
    from chalicelib.services.numbers import reservations

    monkeypatch.setenv("RESERVATION_HOLD_MINUTES", "-1")  # the cart is expired as soon as it exists
    cart = reservations.reserve_numbers(principal=admin, customer=acme, numbers=["2062190020"])
    monkeypatch.delenv("RESERVATION_HOLD_MINUTES")
    assert store.get_number(admin.tenant_id, "2062190020")["status"] == "reserved"
    response = api.post(f"/customers/{acme['id']}/numbers", {"number": "2062190020"})
    assert response.status_code == 201, response.body
    # The number left the expired cart and became the customer's: one owner, one place.
    sold = store.get_number(admin.tenant_id, "2062190020")
    assert sold["status"] == "active" and sold["customerId"] == acme["id"]
    released = carts.get_cart(admin.tenant_id, cart["reserveId"])
    assert released is None or released["status"] == carts.RELEASING and "2062190020" not in released.get("numbers", [])
    assert [n["number"] for n in api.get(f"/customers/{acme['id']}/numbers").json] == ["2062190020"]


def test_customer_dropped_between_the_read_and_the_sale_is_not_sold(api, admin, monkeypatch):
    """The customer's status is a condition of the sale's transaction, not only
    a check on the read: a customer dropped in between (simulated by serving
    the read from before the drop) gets 409003 and nothing is written, with a
    charge (the ledger's guard on the customer item) or without (a condition
    check on it)."""
    from chalicelib.services.customers import accounts as customer_service
    from tests.support.surfaces.carrier import inventory_csv
    from chalicelib.services.numbers import inventory
    import io

    priced = customer(api, "Late Drop Ltd")
    free = customer(api, "Free Drop Ltd")
    import_landlines(admin.tenant_id, ["2062190020"])
    inventory.import_numbers(tenant=admin.tenant_id, lines=io.StringIO(inventory_csv(
        [("2062190021", "landline", "WA", "SEATTLE", "SEATTLE", "0", "0")])))
    as_read = {c["id"]: customer_service.get_customer(principal=admin, customer_id=c["id"]) for c in (priced, free)}
    for c in (priced, free):
        assert api.post(f"/customers/{c['id']}?action=drop", {"dateDrop": "2025-01-24"}).status_code == 200
    before = snapshot(api, admin, ["2062190020", "2062190021"], [priced["id"], free["id"]])
    real_get = customer_service.get_customer
    monkeypatch.setattr(customer_service, "get_customer",
                        lambda *, principal, customer_id: as_read.get(customer_id) or real_get(
                            principal=principal, customer_id=customer_id))
    for c, number in ((priced, "2062190020"), (free, "2062190021")):
        response = api.post(f"/customers/{c['id']}/numbers", {"number": number})
        assert (response.status_code, response.json["error_code"]) == (409, 409003), response.body
    monkeypatch.setattr(customer_service, "get_customer", real_get)
    assert snapshot(api, admin, ["2062190020", "2062190021"], [priced["id"], free["id"]]) == before
