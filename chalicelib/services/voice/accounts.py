"""The organisation, its accounts (the tenant's customers), their address and DDIs.

An account's ``domain`` (its SIP domain label, unique per tenant) and ``mbn``
(main billing number) are kept on the customer item: given when the account is
first read through this API (the label from its name, made unique by a suffix;
the mbn its first active DDI), the mbn moved on when that DDI is no longer active
(noticed when the DDIs are listed or a call is created: ``main_number``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from chalicelib.domain import voice as rules
from chalicelib.domain.errors import AlreadyExistsError, NotFoundError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit, retry
from chalicelib.services.customers import accounts as customer_service
from chalicelib.store.voice import accounts as store

ACCOUNT_KIND = "ACCOUNT"
DDI_KIND = "DDI"
ORG_KIND = "ORG"
MAX_ACCOUNTS = 1000


def organisation(*, principal: Principal) -> dict[str, Any]:
    from chalicelib.store.identity import users as identity

    tenant = identity.get_tenant(principal.tenant_id) or {}
    return {"id": rules.opaque_id(principal.tenant_id, ORG_KIND, 1), "name": tenant.get("name", "")}


def account_id(principal: Principal, customer_id: int) -> str:
    return rules.opaque_id(principal.tenant_id, ACCOUNT_KIND, customer_id)


def get_account(*, principal: Principal, account: str) -> dict[str, Any]:
    """The customer behind an opaque account id, within the caller's scope."""
    rules.require(principal, rules.READ)
    customer_id = rules.parse_opaque_id(principal.tenant_id, ACCOUNT_KIND, account)
    if customer_id is None:
        raise NotFoundError(f"account '{account}' not found")
    try:
        return customer_service.get_customer(principal=principal, customer_id=customer_id)
    except NotFoundError:
        raise NotFoundError(f"account '{account}' not found") from None


def list_accounts(*, principal: Principal, after: int = 0, limit: int = MAX_ACCOUNTS) -> list[dict[str, Any]]:
    from chalicelib.store.dynamo.entities import Page

    rules.require(principal, rules.READ)
    return customer_service.list_customers(principal=principal, page=Page(id_after=after, limit=limit))


def profile(*, principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    """The customer with its voice ``domain`` and ``mbn`` (given on first use)."""
    if customer.get("voiceDomain") and "voiceMbn" in customer:
        return dict(customer)
    return retry.until_settled(lambda: _assign_profile(principal, customer["id"]), what="the account")


def _assign_profile(principal: Principal, customer_id: int) -> dict[str, Any]:
    current = customer_service.get_customer(principal=principal, customer_id=customer_id)
    if current.get("voiceDomain") and "voiceMbn" in current:
        return current
    ddis = active_numbers(principal=principal, customer=current)
    changes: dict[str, Any] = {"voiceMbn": ddis[0]["name"] if ddis else ""}
    if current.get("voiceDomain"):
        return store.update_customer(customer_service.CUSTOMER, principal.tenant_id, current, changes)
    base = _label(current.get("name") or "") or f"account{customer_id}"
    for attempt in range(20):
        label = base if attempt == 0 else f"{base[:57]}{attempt + 1}"
        try:
            return store.update_customer(customer_service.CUSTOMER, principal.tenant_id, current, {**changes, "voiceDomain": label},
                                         claim_domain=label)
        except AlreadyExistsError:
            continue
    raise AlreadyExistsError("no free SIP domain label for this account name")


def _label(name: str) -> str:
    # "Darren's Pizzas" -> "darrenspizzas": a DNS label (letters, digits, '-').
    text = re.sub(r"[^a-z0-9-]", "", name.lower().replace(" ", ""))
    return text.strip("-")[:60]


def active_numbers(*, principal: Principal, customer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The account's active numbers as DDIs ``{id, name, number}``, in number order."""
    return active_ddis(principal.tenant_id, int(customer["id"]))


def active_ddis(tenant: str, customer_id: int) -> list[dict[str, Any]]:
    """``active_numbers`` for call control, which has a tenant and no Principal."""
    from chalicelib.domain.numbers import inventory as number_rules
    from chalicelib.store.numbers import owned as owned_numbers

    found = []
    for item in owned_numbers.owned(tenant, customer_id):
        if item.get("status") != number_rules.ACTIVE or item.get("id") is None:
            continue
        # Inventory numbers are NANP (10 digits): E.164 digits without '+' add the 1. A
        # customer's own number from outside the NANP is stored as "+<digits>".
        digits = "1" + item["number"] if len(item["number"]) == 10 else item["number"].lstrip("+")
        found.append({"id": rules.opaque_id(tenant, DDI_KIND, int(item["id"])), "name": digits,
                      "numberId": int(item["id"]), "number": item["number"]})
    return found


def main_number(*, principal: Principal, customer: Mapping[str, Any], ddis: Sequence[Mapping[str, Any]]) -> str:
    """The account's mbn as it is now (``ddis``: its active DDIs): the stored one
    while the account still has that number, else the first DDI, which the
    account then keeps as its mbn ("" without any DDI)."""
    names = [str(d["name"]) for d in ddis]
    stored = str(customer.get("voiceMbn") or "")
    if stored in names:
        return stored
    current = names[0] if names else ""
    if customer.get("voiceDomain") and stored != current:
        try:  # the mbn's number left the account: the next one takes over
            store.update_customer(customer_service.CUSTOMER, principal.tenant_id, customer, {"voiceMbn": current})
        except Exception:  # noqa: BLE001 - a lost race here changes nothing the caller asked for
            pass
    return current


def list_ddis(*, principal: Principal, account: str) -> list[dict[str, Any]]:
    customer = get_account(principal=principal, account=account)
    ddis = active_numbers(principal=principal, customer=customer)
    main_number(principal=principal, customer=customer, ddis=ddis)
    audit.touch("account", customer["id"])
    return ddis


def get_address(*, principal: Principal, account: str) -> dict[str, Any]:
    return rules.address_view(get_account(principal=principal, account=account))


def set_address(*, principal: Principal, account: str, body: Any) -> None:
    rules.require(principal, rules.CONFIGURE)
    fields = rules.address_input(body)
    customer = get_account(principal=principal, account=account)
    customer_service.update_customer(principal=principal, customer_id=customer["id"], changes=fields)
