"""Carts (number reservations) in the main table.

A cart (PK T#<t>#CART, SK <reserveId>) holds the set of its numbers; each
number in it points back with ``reserveId``. Both sides change together in one
transaction, with the availability counters (store/numbers.py). Carts that
can expire are in ByRef2 under T#<t>#CART#OPEN, sorted by ``holdUntil``: the
expired ones are one range Query.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import DialtoneError, InvalidStateError
from chalicelib.store.numbers import inventory as numbers
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_attr
from chalicelib.store.dynamo.table import Transaction, ddb, execute_reporting, get, query_pages

CLAIMING = "claiming"   # a bulk reservation still taking its numbers
OPEN = "open"           # a cart a customer can order or change
ORDERED = "ordered"     # turned into an order: no longer expires
RELEASING = "releasing"  # expired or emptied: its numbers are going back


def _table() -> str:
    return settings.main_table()


def cart_index(tenant: str, hold_until: str, reserve_id: int) -> dict[str, str]:
    return {"GSI4PK": keys.open_carts_pk(tenant), "GSI4SK": f"{hold_until}#{keys.pad(reserve_id)}"}


def get_cart(tenant: str, reserve_id: int) -> dict[str, Any] | None:
    if not 0 < reserve_id <= keys.MAX_ID:
        return None
    return get(_table(), keys.cart_key(tenant, reserve_id))


def customer_cart(tenant: str, customer_id: int) -> int | None:
    """The reserveId of the customer's current Order Cart (it may since have
    been ordered, emptied or expired: the caller reads the cart)."""
    item = get(_table(), keys.customer_cart_key(tenant, customer_id))
    return int(item["reserveId"]) if item else None


def claim_chunk(tenant: str, *, reserve_id: int, customer_id: int, chunk: Sequence[Mapping[str, Any]],
                first: bool, status: str, hold_until: str, stamp: str, join: bool = False,
                replaces: int | None = None) -> list[str]:
    """Move ``chunk`` from available into the cart, with its counters and the
    cart's number set, in one transaction. Returns the numbers that were no
    longer available (then nothing was written).

    ``first``: the chunk creates the cart and makes it the customer's current
    cart, if that is still ``replaces`` (None: the customer had none), so two
    reservations racing to start a cart make one. ``join``: the chunk goes
    into the customer's open cart and extends its hold. Either cart condition
    failing raises InvalidStateError (nothing written): read the cart again."""
    tx = Transaction()
    for item in chunk:
        tx.update(_table(), keys.number_key(tenant, item["number"]),
                  "SET #s = :r, reserveId = :id, customerId = :c, updatedAt = :now ADD version :one "
                  "REMOVE GSI3PK, GSI3SK",
                  condition="#s = :a", names={"#s": "status"},
                  values={":r": rules.RESERVED, ":id": reserve_id, ":c": customer_id, ":now": stamp,
                          ":one": 1, ":a": rules.AVAILABLE})
    numbers.add_counter_updates(tx, tenant, chunk, -1)
    held = {i["number"] for i in chunk}
    cart_values: dict[str, Any] = {":st": status, ":h": hold_until, ":now": stamp, **{
        f":{k.lower()}": v for k, v in cart_index(tenant, hold_until, reserve_id).items()}}
    if join:
        tx.update(_table(), keys.cart_key(tenant, reserve_id),
                  "ADD numbers :n, version :one SET holdUntil = :h, updatedAt = :now, GSI4SK = :gsi4sk",
                  condition="#s = :open AND holdUntil > :now AND customerId = :c", names={"#s": "status"},
                  values={":n": held, ":one": 1, ":h": hold_until, ":now": stamp, ":open": OPEN,
                          ":c": customer_id, ":gsi4sk": cart_values[":gsi4sk"]})
    elif first:
        tx.put(_table(), {**keys.cart_key(tenant, reserve_id), "kind": "CART", "tenantId": tenant,
                          "reserveId": reserve_id, "customerId": customer_id, "numbers": held,
                          "status": status, "holdUntil": hold_until, "createdAt": stamp, "updatedAt": stamp,
                          "version": 1, **cart_index(tenant, hold_until, reserve_id)},
               condition="attribute_not_exists(PK)")
        pointer = {**keys.customer_cart_key(tenant, customer_id), "reserveId": reserve_id, "updatedAt": stamp}
        if replaces is None:
            tx.put(_table(), pointer, condition="attribute_not_exists(PK)")
        else:
            tx.put(_table(), pointer, condition="attribute_not_exists(PK) OR reserveId = :old",
                   values={":old": replaces})
    else:
        tx.update(_table(), keys.cart_key(tenant, reserve_id),
                  "ADD numbers :n, version :one SET #s = :st, holdUntil = :h, updatedAt = :now, "
                  "GSI4PK = :gsi4pk, GSI4SK = :gsi4sk",
                  condition="#s = :claiming", names={"#s": "status"},
                  values={**cart_values, ":n": held, ":one": 1, ":claiming": CLAIMING})
    failed = execute_reporting(tx)
    if any(n >= len(chunk) for n in failed):  # the cart (or the customer's cart pointer) changed
        raise InvalidStateError("the Order Cart changed meanwhile", field="reserveId")
    return [chunk[n]["number"] for n in failed]


def release_chunk(tenant: str, *, cart: Mapping[str, Any], chunk: Sequence[Mapping[str, Any]], stamp: str,
                  open_only: bool = False, open_at: str | None = None, delete_cart: bool = False) -> list[str]:
    """Return ``chunk`` (numbers of ``cart``) to availability and take them out
    of the cart, in one transaction. ``open_only``: only while the cart is
    still open; ``open_at``: and held past that time (a customer's own
    removal; expiry and a failed order release whatever state the cart is
    in). Returns the numbers that were not held by this cart (then nothing
    was written)."""
    reserve_id = cart["reserveId"]
    tx = Transaction()
    for item in chunk:
        tx.update(_table(), keys.number_key(tenant, item["number"]),
                  "SET #s = :a, updatedAt = :now, GSI3PK = :pk, GSI3SK = :n ADD version :one "
                  "REMOVE reserveId, customerId",
                  condition="#s = :r AND reserveId = :id", names={"#s": "status"},
                  values={":a": rules.AVAILABLE, ":now": stamp, ":one": 1, ":r": rules.RESERVED, ":id": reserve_id,
                          ":pk": keys.available_pk(tenant, item["category"], numbers.group_of(item)),
                          ":n": item["number"]})
    numbers.add_counter_updates(tx, tenant, chunk, +1)
    condition: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] = {}
    if open_only or open_at is not None:
        condition, names, values = "#s = :open", {"#s": "status"}, {":open": OPEN}
        if open_at is not None:
            condition += " AND holdUntil > :cut"
            values[":cut"] = open_at
    if delete_cart:
        tx.delete(_table(), keys.cart_key(tenant, reserve_id), condition=condition, names=names,
                  values=values or None)
    else:
        values.update({":n": {i["number"] for i in chunk}, ":one": 1, ":now": stamp})
        tx.update(_table(), keys.cart_key(tenant, reserve_id),
                  "DELETE numbers :n ADD version :one SET updatedAt = :now",
                  condition=condition or "attribute_exists(PK)", names=names, values=values)
    failed = execute_reporting(tx)
    return [chunk[n]["number"] for n in failed if n < len(chunk)]


def mark_cart(tenant: str, reserve_id: int, *, status: str, expected: Sequence[str], stamp: str,
              hold_until: str | None = None, expired_before: str | None = None) -> bool:
    """Move a cart to ``status`` if it is in one of ``expected`` (and, with
    ``expired_before``, held until before then). False if it was not."""
    values: dict[str, Any] = {":st": status, ":now": stamp, ":one": 1}
    allowed = []
    for n, state in enumerate(expected):
        values[f":e{n}"] = state
        allowed.append(f"#s = :e{n}")
    condition = "(" + " OR ".join(allowed) + ")"
    if expired_before:
        condition += " AND holdUntil < :cut"
        values[":cut"] = expired_before
    expression = "SET #s = :st, updatedAt = :now ADD version :one"
    if hold_until:
        expression = "SET #s = :st, updatedAt = :now, holdUntil = :h, GSI4SK = :g ADD version :one"
        values.update({":h": hold_until, ":g": cart_index(tenant, hold_until, reserve_id)["GSI4SK"]})
    tx = Transaction().update(_table(), keys.cart_key(tenant, reserve_id), expression, condition=condition,
                              names={"#s": "status"}, values=values)
    return not execute_reporting(tx)


def add_ordered(tx: Transaction, tenant: str, cart: Mapping[str, Any], *, customer_id: int, now: str,
                failure: DialtoneError) -> None:
    """Add to ``tx`` the cart's move to ``ordered``: it leaves the expiry
    index, so it can neither expire nor be ordered twice. Conditional on the
    cart being the customer's, open, unexpired at ``now`` and unchanged since
    it was read (``failure`` otherwise)."""
    tx.update(_table(), keys.cart_key(tenant, cart["reserveId"]),
              "SET #s = :ordered, updatedAt = :now REMOVE GSI4PK, GSI4SK",
              condition="#s = :open AND holdUntil > :now AND customerId = :c AND version = :v",
              names={"#s": "status"},
              values={":ordered": ORDERED, ":open": OPEN, ":now": now, ":c": customer_id, ":v": cart["version"]},
              failure=failure)


def expired_carts(tenant: str, now: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Carts whose hold ended before ``now`` (open, still claiming, or half released)."""
    found: list[dict[str, Any]] = []
    for items in query_pages(_table(), index="ByRef2", key_condition="GSI4PK = :pk AND GSI4SK < :now",
                             values={":pk": keys.open_carts_pk(tenant), ":now": now}, page_size=limit):
        found.extend(items)
        if len(found) >= limit:
            break
    return found[:limit]


def delete_cart(tenant: str, reserve_id: int) -> None:
    ddb().delete_item(TableName=_table(), Key={k: to_attr(v) for k, v in keys.cart_key(tenant, reserve_id).items()})
