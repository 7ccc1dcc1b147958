"""The numbers customers own, in the main table: who owns what (ByParent
under the customer), the integer ids other surfaces use for them (ID items),
assignment and activation of sold, reserved and ported-in numbers, and the
backfill of ids for numbers stocked before ids existed. The item shapes and
availability counters are in ``inventory``, which every change here keeps
exact in the same transaction.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import DialtoneError
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import MAX_TRANSACTION_ITEMS, Transaction, batch_get, ddb, execute_reporting, get, query_pages
from chalicelib.store.dynamo.codec import to_attr
from chalicelib.store.numbers import inventory as numbers


def _table() -> str:
    return settings.main_table()


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
    requests = [{"PutRequest": {"Item": {k: to_attr(v) for k, v in numbers.id_item(tenant, i, n).items()}}}
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
        tx.put(_table(), numbers.id_item(tenant, number_id, item["number"]), condition="attribute_not_exists(PK)",
               failure=failure)
    else:
        condition = "#s = :a AND id = :id"
    tx.update(_table(), keys.number_key(tenant, item["number"]),
              "SET #s = :active, customerId = :c, orderId = :o, id = :id, updatedAt = :now, "
              "GSI1PK = :pk, GSI1SK = :sk ADD version :one REMOVE GSI3PK, GSI3SK, reserveId",
              condition=condition, names={"#s": "status"}, values=values, failure=failure)
    numbers.add_counter_updates(tx, tenant, [item], -1)


def activate_reserved(tenant: str, numbers: Sequence[str], *, reserve_id: int, customer_id: int, order_id: int,
                      trunk_id: int | None, stamp: str) -> bool:
    """The order worker's activation: numbers still reserved by the cart
    ``reserve_id`` become the customer's active numbers (ByParent under the
    customer), 100 per transaction, each conditional on that reservation.
    False as soon as a chunk finds a number no longer so (that chunk wrote
    nothing; earlier chunks stay done, and are skipped when run again)."""
    for start in range(0, len(numbers), MAX_TRANSACTION_ITEMS):
        tx = Transaction()
        for number in numbers[start:start + MAX_TRANSACTION_ITEMS]:
            tx.update(_table(), keys.number_key(tenant, number),
                      "SET #s = :active, customerId = :c, orderId = :o, trunkId = :t, updatedAt = :now, "
                      "GSI1PK = :pk, GSI1SK = :sk ADD version :one REMOVE reserveId",
                      condition="#s = :reserved AND reserveId = :r", names={"#s": "status"},
                      values={":active": rules.ACTIVE, ":c": customer_id, ":o": order_id, ":t": trunk_id,
                              ":now": stamp, ":one": 1, ":reserved": rules.RESERVED, ":r": reserve_id,
                              ":pk": keys.owned_pk(tenant), ":sk": keys.owned_sk(customer_id, number)})
        if execute_reporting(tx):
            return False
    return True


def add_ported_in(tx: Transaction, tenant: str, number: str, *, number_id: int, category: str, customer_id: int,
                  port_order_id: int, stamp: str, with_id_item: bool, failure: DialtoneError) -> None:
    """Add to ``tx`` a number ported in: new in the inventory, straight the
    customer's active number (``failure`` if the inventory has it already).
    ``with_id_item``: its id lookup item too (else written beforehand with
    ``put_id_items``, when a large port does not fit one transaction)."""
    if with_id_item:
        tx.put(_table(), numbers.id_item(tenant, number_id, number), condition="attribute_not_exists(PK)")
    tx.put(_table(), {
        **keys.number_key(tenant, number), "kind": "NUMBER", "tenantId": tenant, "number": number, "id": number_id,
        "category": category, "npanxx": number[:6], "status": rules.ACTIVE,
        "customerId": customer_id, "portOrderId": port_order_id, "orderType": "Portin",
        "monthlyPrice": 0, "setupPrice": 0, "version": 1, "createdAt": stamp, "updatedAt": stamp,
        "GSI1PK": keys.owned_pk(tenant), "GSI1SK": keys.owned_sk(customer_id, number),
        **({"tfnPrefix": number[:3]} if category == rules.TOLLFREE else {}),
    }, condition="attribute_not_exists(PK)", failure=failure)


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
    tx.put(_table(), numbers.id_item(tenant, item["id"], item["number"]), condition="attribute_not_exists(PK)",
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
        tx.put(_table(), numbers.id_item(tenant, number_id, item["number"]), condition="attribute_not_exists(PK)")
    failed = execute_reporting(tx)
    return [pairs[n][0]["number"] for n in failed if n < len(pairs)]
