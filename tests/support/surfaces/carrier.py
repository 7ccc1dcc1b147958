"""Carrier API fixtures shared by surface and integration tests: a tenant
with inventory, two customers and their users' keys, and a caller."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.domain.identity import principal_from_user


def inventory_csv(rows: list[tuple]) -> str:
    lines = ["number,category,state,rate_center,city,monthly_price,setup_price"]
    lines += [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def landlines(npanxx: str, count: int, *, state: str = "WA", city: str = "SEATTLE", start: int = 0,
              monthly: str = "1.25", setup: str = "0.50") -> list[tuple]:
    return [(f"{npanxx}{n:04d}", "landline", state, city, city, monthly, setup) for n in range(start, start + count)]


def tollfree(prefix: str, count: int, *, start: int = 0) -> list[tuple]:
    return [(f"{prefix}555{n:04d}", "tollfree", "", "", "", "2.00", "1.00") for n in range(start, start + count)]


@dataclass
class Shop:
    """A tenant with two customers; ``key`` is a staff key, ``keys`` per account."""

    tenant: str
    admin_key: str
    accounts: list[str]
    customer_ids: list[int]
    keys: dict[str, str]


def make_shop(rows: list[tuple], *, customers: int = 2, credit_limit: str = "-1000") -> Shop:
    from chalicelib.services.customers import accounts as customer_service
    from chalicelib.services.numbers import inventory as numbers
    from chalicelib.services.identity import users

    made = users.create_tenant(name="Carrier Co")
    tenant = made["tenant"]["id"]
    admin = identity_store_user(tenant, made["user"]["id"])
    principal = principal_from_user(admin, tenant)
    accounts, ids, keys = [], [], {}
    for n in range(customers):
        customer = customer_service.create_customer(principal=principal, fields={
            "name": f"Customer {n}", "creditLimit": credit_limit})
        accounts.append(customer["accountNumber"])
        ids.append(customer["id"])
        user = users.create_user(tenant=tenant, username=f"u{n}-{tenant}", account_number=customer["accountNumber"],
                                 api_only=True)
        keys[customer["accountNumber"]] = users.issue_api_key(tenant=tenant, user_id=user["id"])
    numbers.import_numbers(tenant=tenant, lines=io.StringIO(inventory_csv(rows)))
    return Shop(tenant=tenant, admin_key=made["user"]["api_key"], accounts=accounts, customer_ids=ids, keys=keys)


def identity_store_user(tenant: str, user_id: int) -> dict[str, Any]:
    from chalicelib.services.identity import users

    return users.get_user(tenant=tenant, user_id=user_id)


class Carrier:
    """Calls /carrier/<name> as one key and account, through any transport
    ``send(method, path, body, headers) -> (status, json)``."""

    def __init__(self, send: Callable[..., tuple[int, Any]], key: str, account: str) -> None:
        self.send, self.key, self.account = send, key, account

    def __call__(self, name: str, method: str = "POST", headers: dict | None = None, **params: Any) -> tuple[int, Any]:
        body = {"token": self.key, "accountno": self.account, **{k: str(v) for k, v in params.items()}}
        return self.send(method, f"/carrier/{name}", body, headers or {})


def chalice_sender(client: Any) -> Callable[..., tuple[int, Any]]:
    """Transport through the Chalice test client (JSON bodies, or query for GET)."""
    from urllib.parse import urlencode

    def send(method: str, path: str, body: dict, headers: dict) -> tuple[int, Any]:
        if method == "GET":
            response = client.get(path + "?" + urlencode(body), headers=headers)
        else:
            response = client.post(path, body=json.dumps(body),
                                   headers={"Content-Type": "application/json", **headers})
        return response.status_code, json.loads(response.body)
    return send
