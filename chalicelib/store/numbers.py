"""Numbers, availability counters and carts in the main table.

A number item (PK T#<t>#NUMBER, SK <10 digits>) carries its state. While it
is available it sits in ByRef1 under its state (landline) or toll-free prefix,
sorted by number; while a customer owns it, in ByParent under the customer.
Every change of a number's availability updates the counters of its state and
NPANXX in the same transaction, so the counts are exact.

A cart (PK T#<t>#CART, SK <reserveId>) holds the set of its numbers; each
number in it points back with ``reserveId``. Both sides change together in one
transaction. Carts that can expire are in ByRef2 under T#<t>#CART#OPEN,
sorted by ``holdUntil``: the expired ones are one range Query.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import InvalidStateError
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import MAX_TRANSACTION_ITEMS, Transaction, batch_get, ddb, execute_reporting, get, query_pages
from chalicelib.store.dynamo.codec import to_attr

CLAIMING = "claiming"   # a bulk reservation still taking its numbers
OPEN = "open"           # a cart a customer can order or change
ORDERED = "ordered"     # turned into an order: no longer expires
RELEASING = "releasing"  # expired or emptied: its numbers are going back


def _table() -> str:
    return settings.main_table()


def available_index(tenant: str, category: str, group: str, number: str) -> dict[str, str]:
    return {"GSI3PK": keys.available_pk(tenant, category, group), "GSI3SK": number}


def number_item(tenant: str, row: rules.InventoryRow, stamp: str, number_id: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.number_key(tenant, row.number), "kind": "NUMBER", "tenantId": tenant, "id": number_id,
        "number": row.number, "category": row.category, "npanxx": row.npanxx,
        "rateCenter": row.rate_center, "city": row.city, "monthlyPrice": row.monthly_price,
        "setupPrice": row.setup_price, "status": rules.AVAILABLE, "version": 1,
        "createdAt": stamp, "updatedAt": stamp,
        **available_index(tenant, row.category, row.group, row.number),
    }
    if row.category == rules.TOLLFREE:
        item["tfnPrefix"] = row.number[:3]
    else:
        item["state"] = row.state
    return item


def id_item(tenant: str, number_id: int, number: str) -> dict[str, Any]:
    """The id lookup item of a number (PK T#<t>#NUMBERID, SK <12-digit id>)."""
    return {**keys.number_id_key(tenant, number_id), "kind": "NUMBERID", "tenantId": tenant, "number": number}


def group_of(item: Mapping[str, Any]) -> str:
    return item["tfnPrefix"] if item["category"] == rules.TOLLFREE else item["state"]


def counter_deltas(items: Iterable[Mapping[str, Any]], sign: int) -> dict[str, int]:
    """Counter sort keys -> change, for numbers entering (+1) or leaving (-1) availability."""
    deltas: Counter[str] = Counter()
    for item in items:
        deltas[keys.state_counter_sk(item["category"], group_of(item))] += sign
        if item["category"] == rules.LANDLINE:
            deltas[keys.npanxx_counter_sk(item["state"], item["npanxx"])] += sign
    return dict(deltas)


def add_counter_updates(tx: Transaction, tenant: str, items: Sequence[Mapping[str, Any]], sign: int) -> None:
    by_sk = {}
    for item in items:
        by_sk.setdefault(keys.state_counter_sk(item["category"], group_of(item)), item)
        if item["category"] == rules.LANDLINE:
            by_sk.setdefault(keys.npanxx_counter_sk(item["state"], item["npanxx"]), item)
    for sk, delta in counter_deltas(items, sign).items():
        sample = by_sk[sk]
        values: dict[str, Any] = {":d": delta, ":cat": sample["category"], ":g": group_of(sample)}
        expression = "ADD #c :d SET category = :cat, #g = :g"
        if sk.startswith("NPANXX#"):
            values.update({":n": sample["npanxx"], ":rc": sample.get("rateCenter") or ""})
            expression += ", npanxx = :n, rateCenter = :rc"
        tx.update(_table(), {"PK": keys.counter_pk(tenant), "SK": sk}, expression,
                  names={"#c": "count", "#g": "group"}, values=values)


def _counter_keys(item: Mapping[str, Any]) -> tuple[str, ...]:
    state = keys.state_counter_sk(item["category"], group_of(item))
    if item["category"] == rules.LANDLINE:
        return state, keys.npanxx_counter_sk(item["state"], item["npanxx"])
    return (state,)


def chunk_for_transactions(items: Sequence[Mapping[str, Any]], reserved: int,
                           first_only: bool = False, per_item: int = 1) -> list[list[Mapping[str, Any]]]:
    """Split items into groups whose writes (``per_item`` per item, one per
    counter they touch, plus ``reserved`` others) fit one transaction of 100
    actions. ``first_only``: just the first group (the caller re-plans after each)."""
    chunks: list[list[Mapping[str, Any]]] = []
    current: list[Mapping[str, Any]] = []
    counters_seen: set[str] = set()
    for item in items:
        wanted = counters_seen.union(_counter_keys(item))
        if current and (len(current) + 1) * per_item + len(wanted) + reserved > MAX_TRANSACTION_ITEMS:
            chunks.append(current)
            if first_only:
                return chunks
            current, counters_seen = [item], set(_counter_keys(item))
        else:
            current.append(item)
            counters_seen = wanted
    if current:
        chunks.append(current)
    return chunks


def existing(tenant: str, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    found = batch_get(_table(), [keys.number_key(tenant, n) for n in numbers])
    return {item["number"]: item for item in found}


def get_number(tenant: str, number: str) -> dict[str, Any] | None:
    return get(_table(), keys.number_key(tenant, number))


def insert_available(tenant: str, items: Sequence[Mapping[str, Any]]) -> list[int]:
    """Add new numbers (with their id lookup items and counters) in one
    transaction; returns the indexes of numbers that already existed (then
    nothing was written). Chunk with ``per_item=2``."""
    tx = Transaction()
    for item in items:
        tx.put(_table(), item, condition="attribute_not_exists(PK)")
    for item in items:
        tx.put(_table(), id_item(tenant, item["id"], item["number"]), condition="attribute_not_exists(PK)")
    add_counter_updates(tx, tenant, items, +1)
    return [n for n in execute_reporting(tx) if n < len(items)]


def put_npanxx_directory(tenant: str, entries: Mapping[str, str]) -> None:
    """NPANXX -> state, written once per NPANXX seen in an import."""
    requests = [{"PutRequest": {"Item": {k: to_attr(v) for k, v in {
        **keys.npanxx_directory_key(tenant, npanxx), "state": state}.items()}}}
        for npanxx, state in entries.items()]
    for start in range(0, len(requests), 25):
        pending = {_table(): requests[start:start + 25]}
        while pending:
            pending = ddb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def state_of_npanxx(tenant: str, npanxx: str) -> str | None:
    found = get(_table(), keys.npanxx_directory_key(tenant, npanxx), consistent=False)
    return found["state"] if found else None


def query_available(tenant: str, criteria: rules.Criteria, *, limit: int,
                    skip: frozenset[str] = frozenset(), after: str | None = None) -> list[dict[str, Any]]:
    """Available numbers matching ``criteria`` in ascending order, at most
    ``limit``, leaving out ``skip`` (numbers known to be lost to others)."""
    values: dict[str, Any] = {":pk": keys.available_pk(tenant, criteria.category, criteria.group)}
    condition = "GSI3PK = :pk"
    if after:
        values[":after"] = after
        condition += " AND GSI3SK > :after"
        if criteria.sk_prefix:
            values[":high"] = criteria.sk_prefix + "\uffff"
            condition = "GSI3PK = :pk AND GSI3SK BETWEEN :after AND :high"
    elif criteria.sk_prefix:
        values[":p"] = criteria.sk_prefix
        condition += " AND begins_with(GSI3SK, :p)"
    names = None
    filter_expression = None
    if criteria.city:
        filter_expression, names = "#city = :city", {"#city": "city"}
        values[":city"] = criteria.city
    found: list[dict[str, Any]] = []
    for items in query_pages(_table(), index="ByRef1", key_condition=condition, values=values, names=names,
                             filter_expression=filter_expression,
                             page_size=min(1000, limit + len(skip) + 20)):
        found.extend(i for i in items if i["number"] not in skip and i["status"] == rules.AVAILABLE)
        if len(found) >= limit:
            break
    return found[:limit]


def counters(tenant: str, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    condition, values = "PK = :pk", {":pk": keys.counter_pk(tenant)}
    if prefix:
        condition, values[":p"] = condition + " AND begins_with(SK, :p)", prefix
    for items in query_pages(_table(), key_condition=condition, values=values):
        found.extend(items)
    return found


# Carts ---------------------------------------------------------------------

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
    add_counter_updates(tx, tenant, chunk, -1)
    numbers = {i["number"] for i in chunk}
    cart_values: dict[str, Any] = {":st": status, ":h": hold_until, ":now": stamp, **{
        f":{k.lower()}": v for k, v in cart_index(tenant, hold_until, reserve_id).items()}}
    if join:
        tx.update(_table(), keys.cart_key(tenant, reserve_id),
                  "ADD numbers :n, version :one SET holdUntil = :h, updatedAt = :now, GSI4SK = :gsi4sk",
                  condition="#s = :open AND holdUntil > :now AND customerId = :c", names={"#s": "status"},
                  values={":n": numbers, ":one": 1, ":h": hold_until, ":now": stamp, ":open": OPEN,
                          ":c": customer_id, ":gsi4sk": cart_values[":gsi4sk"]})
    elif first:
        tx.put(_table(), {**keys.cart_key(tenant, reserve_id), "kind": "CART", "tenantId": tenant,
                          "reserveId": reserve_id, "customerId": customer_id, "numbers": numbers,
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
                  values={**cart_values, ":n": numbers, ":one": 1, ":claiming": CLAIMING})
    failed = execute_reporting(tx)
    if any(n >= len(chunk) for n in failed):  # the cart (or the customer's cart pointer) changed
        raise InvalidStateError("the Order Cart changed meanwhile", field="reserveId")
    return [chunk[n]["number"] for n in failed]


def release_chunk(tenant: str, *, cart: Mapping[str, Any], chunk: Sequence[Mapping[str, Any]], stamp: str,
                  cart_condition: str | None = None, cart_values: Mapping[str, Any] | None = None,
                  delete_cart: bool = False) -> list[str]:
    """Return ``chunk`` (numbers of ``cart``) to availability and take them out
    of the cart, in one transaction. Returns the numbers that were not held by
    this cart (then nothing was written)."""
    reserve_id = cart["reserveId"]
    tx = Transaction()
    for item in chunk:
        tx.update(_table(), keys.number_key(tenant, item["number"]),
                  "SET #s = :a, updatedAt = :now, GSI3PK = :pk, GSI3SK = :n ADD version :one "
                  "REMOVE reserveId, customerId",
                  condition="#s = :r AND reserveId = :id", names={"#s": "status"},
                  values={":a": rules.AVAILABLE, ":now": stamp, ":one": 1, ":r": rules.RESERVED, ":id": reserve_id,
                          ":pk": keys.available_pk(tenant, item["category"], group_of(item)), ":n": item["number"]})
    add_counter_updates(tx, tenant, chunk, +1)
    names = {"#s": "status"} if cart_condition and "#s" in cart_condition else None
    values = dict(cart_values or {})
    if delete_cart:
        tx.delete(_table(), keys.cart_key(tenant, reserve_id), condition=cart_condition, names=names,
                  values=values or None)
    else:
        values.update({":n": {i["number"] for i in chunk}, ":one": 1, ":now": stamp})
        tx.update(_table(), keys.cart_key(tenant, reserve_id),
                  "DELETE numbers :n ADD version :one SET updatedAt = :now",
                  condition=cart_condition or "attribute_exists(PK)", names=names, values=values)
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


# Owned numbers -------------------------------------------------------------------

def owned(tenant: str, customer_id: int) -> list[dict[str, Any]]:
    """Numbers a customer owns, by number (ByParent: <customer>#<number>)."""
    found: list[dict[str, Any]] = []
    for items in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk AND begins_with(GSI1SK, :p)",
                             values={":pk": keys.owned_pk(tenant), ":p": keys.pad(customer_id) + "#"}):
        found.extend(items)
    return found


def owned_in_tenant(tenant: str, attributes: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every number owned by any customer of the tenant (the CDR pipeline's
    owner lookup, once per file or day): the whole ByParent partition
    T#<t>#CUSTOMER>NUMBER in one paged Query; ``attributes`` narrows the
    items (and so the pages) to what the caller reads."""
    found: list[dict[str, Any]] = []
    for items in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk",
                             values={":pk": keys.owned_pk(tenant)}, attributes=attributes):
        found.extend(items)
    return found


def update_owned(tenant: str, customer_id: int, numbers: Sequence[str], changes: Mapping[str, Any], *,
                 stamp: str) -> list[int]:
    """Set ``changes`` on the customer's numbers in one transaction; returns the
    indexes of numbers that were not the customer's any more (nothing written)."""
    names = {"#s": "status", **{f"#f{n}": k for n, k in enumerate(changes)}}
    values: dict[str, Any] = {":c": customer_id, ":now": stamp, ":one": 1,
                              **{f":v{n}": v for n, v in enumerate(changes.values())},
                              **{f":o{n}": s for n, s in enumerate(rules.OWNED)}}
    sets = ", ".join(f"#f{n} = :v{n}" for n in range(len(changes)))
    owned_condition = " OR ".join(f"#s = :o{n}" for n in range(len(rules.OWNED)))
    tx = Transaction()
    for number in numbers:
        tx.update(_table(), keys.number_key(tenant, number), f"SET {sets}, updatedAt = :now ADD version :one",
                  condition=f"customerId = :c AND ({owned_condition})", names=names, values=values)
    return execute_reporting(tx)


def owned_by_customers(tenant: str, customer_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Owned numbers of many customers (expansion of a page of customers): ONE
    Query over the ByParent range from the lowest to the highest customer id
    (SK <12-digit customer>#<number>), grouped by ``customerId``."""
    wanted = sorted(set(customer_ids))
    found: dict[int, list[dict[str, Any]]] = {c: [] for c in wanted}
    if not wanted:
        return found
    for items in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
                             values={":pk": keys.owned_pk(tenant), ":low": keys.pad(wanted[0]) + "#",
                                     ":high": keys.pad(wanted[-1]) + "#\uffff"}, page_size=1000):
        for item in items:
            if item.get("customerId") in found:
                found[item["customerId"]].append(item)
    return found


def number_by_id(tenant: str, number_id: int) -> dict[str, Any] | None:
    """The number with this id: GetItem of the lookup, GetItem of the number.
    A lookup whose number does not carry the id (a failed write) is no number."""
    if not 0 < number_id <= keys.MAX_ID:
        return None
    lookup = get(_table(), keys.number_id_key(tenant, number_id), consistent=False)
    if lookup is None:
        return None
    item = get(_table(), keys.number_key(tenant, lookup["number"]), consistent=False)
    return item if item is not None and item.get("id") == number_id else None


def numbers_in_id_order(tenant: str, id_after: int, *, page_size: int = 100) -> Iterable[list[dict[str, Any]]]:
    """Pages of the tenant's numbers in id order after ``id_after``: a Query of
    the id lookup partition, then one BatchGetItem of the numbers per page."""
    for lookups in query_pages(_table(), key_condition="PK = :pk AND SK > :after",
                               values={":pk": keys.number_id_pk(tenant), ":after": keys.pad(id_after)},
                               page_size=page_size):
        wanted = {lookup["number"]: int(lookup["SK"]) for lookup in lookups}
        items = {i["number"]: i for i in batch_get(_table(), [keys.number_key(tenant, n) for n in wanted])}
        yield [items[n] for n, i in wanted.items() if n in items and items[n].get("id") == i]


def put_id_items(tenant: str, pairs: Sequence[tuple[int, str]]) -> None:
    """Id lookup items written ahead of a transaction too large to hold them
    (port-in of many numbers): harmless if it fails, readers check the number's id."""
    requests = [{"PutRequest": {"Item": {k: to_attr(v) for k, v in id_item(tenant, i, n).items()}}}
                for i, n in pairs]
    for start in range(0, len(requests), 25):
        pending = {_table(): requests[start:start + 25]}
        while pending:
            pending = ddb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def add_assignment(tx: Transaction, tenant: str, item: Mapping[str, Any], *, customer_id: int, order_id: int,
                   number_id: int, stamp: str, failure: Any) -> None:
    """Add to ``tx`` the sale of one available number straight to a customer
    (billing API ``POST /customers/{id}/numbers``): the number becomes the
    customer's active number, leaves the availability index and its counters.
    Conditional on the number still being available (``failure`` otherwise),
    so two concurrent sales of it cannot both commit. A number stocked before
    integer ids existed gets ``number_id`` and its id lookup item here too."""
    values: dict[str, Any] = {
        ":active": rules.ACTIVE, ":c": customer_id, ":o": order_id, ":id": number_id, ":now": stamp, ":one": 1,
        ":a": rules.AVAILABLE, ":pk": keys.owned_pk(tenant), ":sk": keys.owned_sk(customer_id, item["number"]),
    }
    if item.get("id") is None:
        condition = "#s = :a AND attribute_not_exists(id)"
        tx.put(_table(), id_item(tenant, number_id, item["number"]), condition="attribute_not_exists(PK)",
               failure=failure)
    else:
        condition = "#s = :a AND id = :id"
    tx.update(_table(), keys.number_key(tenant, item["number"]),
              "SET #s = :active, customerId = :c, orderId = :o, id = :id, updatedAt = :now, "
              "GSI1PK = :pk, GSI1SK = :sk ADD version :one REMOVE GSI3PK, GSI3SK, reserveId",
              condition=condition, names={"#s": "status"}, values=values, failure=failure)
    add_counter_updates(tx, tenant, [item], -1)


def own_number_item(tenant: str, *, number: str, category: str, number_id: int, customer_id: int,
                    stamp: str) -> dict[str, Any]:
    """A number the customer has from elsewhere (ported in by another
    carrier, billed only), recorded by the billing API: owned from the start,
    never in the availability index or counters, so never sellable stock."""
    item: dict[str, Any] = {
        **keys.number_key(tenant, number), "kind": "NUMBER", "tenantId": tenant, "number": number,
        "id": number_id, "category": category, "status": rules.ACTIVE, "customerId": customer_id,
        "orderType": rules.OWN_ORDER_TYPE, "monthlyPrice": 0, "setupPrice": 0, "version": 1,
        "createdAt": stamp, "updatedAt": stamp,
        "GSI1PK": keys.owned_pk(tenant), "GSI1SK": keys.owned_sk(customer_id, number),
    }
    if category in rules.CATEGORIES:
        item["npanxx"] = number[:6]
    if category == rules.TOLLFREE:
        item["tfnPrefix"] = number[:3]
    return item


def add_own_number(tx: Transaction, tenant: str, item: Mapping[str, Any], *, failure: Any) -> None:
    """Add to ``tx`` the number item and its id lookup, both conditional on not
    existing: a number is recorded once per tenant (``failure`` otherwise),
    whether it is stock, sold, or another customer's own."""
    tx.put(_table(), dict(item), condition="attribute_not_exists(PK)", failure=failure)
    tx.put(_table(), id_item(tenant, item["id"], item["number"]), condition="attribute_not_exists(PK)",
           failure=failure)


def update_number(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *, stamp: str,
                  failure: Any) -> dict[str, Any]:
    """Apply ``changes`` (None removes a field) to an owned number if it is
    still the version read and still the same customer's; ``failure`` (a
    lost race: the caller re-reads) otherwise. Returns the new record."""
    sets = {k: v for k, v in changes.items() if v is not None}
    removes = [k for k, v in changes.items() if v is None]
    names = {f"#f{n}": k for n, k in enumerate([*sets, *removes])}
    values: dict[str, Any] = {f":v{n}": v for n, v in enumerate(sets.values())}
    values.update({":now": stamp, ":one": 1, ":c": current["customerId"]})
    # Numbers stocked before items carried versions have none: version 0.
    version = int(current.get("version") or 0)
    condition = "customerId = :c AND " + ("version = :version" if version else "attribute_not_exists(version)")
    if version:
        values[":version"] = version
    expression = "SET " + ", ".join([*(f"#f{n} = :v{n}" for n in range(len(sets))), "updatedAt = :now"])
    if removes:
        expression += " REMOVE " + ", ".join(f"#f{len(sets) + n}" for n in range(len(removes)))
    tx = Transaction()
    tx.update(_table(), keys.number_key(tenant, current["number"]), expression + " ADD version :one",
              condition=condition, names=names, values=values, failure=failure)
    tx.execute()
    new = {k: v for k, v in {**current, **changes}.items() if v is not None}
    new.update(version=version + 1, updatedAt=stamp)
    return new


# Backfill of integer ids ---------------------------------------------------------

def numbers_without_ids(tenant: str, *, page_size: int = 500) -> Iterable[list[dict[str, Any]]]:
    """Pages of the tenant's numbers that carry no ``id`` (stocked before
    integer ids existed): a Query of the tenant's number partition, filtered.
    For the admin backfill only: it reads the whole partition."""
    for items in query_pages(_table(), key_condition="PK = :pk", values={":pk": keys.number_key(tenant, "")["PK"]},
                             filter_expression="attribute_not_exists(id)", page_size=page_size):
        yield items


def give_ids(tenant: str, pairs: Sequence[tuple[Mapping[str, Any], int]]) -> list[str]:
    """Give each number its id and id lookup item, all in one transaction
    (at most 50 pairs: two writes each), each conditional on the number still
    having no id. Returns the numbers that had one meanwhile (then nothing
    was written); the caller retries the others."""
    tx = Transaction()
    for item, number_id in pairs:
        tx.update(_table(), keys.number_key(tenant, item["number"]), "SET id = :id ADD version :one", condition="attribute_exists(PK) AND attribute_not_exists(id)",
                  values={":id": number_id, ":one": 1})
    for item, number_id in pairs:
        tx.put(_table(), id_item(tenant, number_id, item["number"]), condition="attribute_not_exists(PK)")
    failed = execute_reporting(tx)
    return [pairs[n][0]["number"] for n in failed if n < len(pairs)]
