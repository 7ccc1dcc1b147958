"""Tenant-scoped resources with integer ids: the generic repository behind
customers, users, numbers, services, notes and the rest.

Item layout (main table), for a resource of kind K with id N in tenant T:
  PK = T#T#K            SK = N (zero-padded)          get by id, list in id order
  GSI1 ByParent  = T#T#<parent kind>>K / <parent id>#N children of a parent, or of a range of parents
  GSI2 ByUpdated = T#T#K / <updatedAt>#N                changed since a time
  GSI3/GSI4 ByRef1/ByRef2 = T#T#K#<ref>#<value> / N     e.g. customers of an account manager
Uniqueness: one item per unique value, written in the same transaction as the
resource, so two concurrent creates with the same account number cannot both win.
Every resource carries ``version``; updates are conditional on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from chalicelib import clock, settings
from chalicelib.domain.errors import ConcurrentUpdateError, ValidationError
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import Transaction, batch_get, ddb, get, query_pages, unique_violation
from chalicelib.store.dynamo.codec import to_attr, to_item

KEY_ATTRIBUTES = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK", "kind", "tenantId"}
)
# Bound on how many changed items one updatedSince request reads before it
# gives up ordering them by id (see list_page).
MAX_CHANGED_SCAN = 20_000


@dataclass(frozen=True)
class Ref:
    """An equality lookup served by ByRef1 (slot 3) or ByRef2 (slot 4).
    With ``sort_field`` the index's sort key is ``<that field>#<id>`` instead of
    the id: a range of that field (a customer's payments between two dates) is
    then a key condition (``query_ref_range``), not a filter."""

    slot: int
    name: str
    field: str
    sort_field: str | None = None


@dataclass(frozen=True)
class EntityType:
    kind: str
    parent_kind: str | None = None
    parent_field: str | None = None
    unique_fields: tuple[str, ...] = ()
    global_unique_fields: tuple[str, ...] = ()
    refs: tuple[Ref, ...] = field(default_factory=tuple)


def _table() -> str:
    return settings.main_table()


def normalise_unique(value: Any) -> str:
    return str(value).strip().lower()


def allocate_ids(tenant: str, kind: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive ids with one atomic counter update.
    Ids are unique and increasing; a failed create leaves a gap, as sequences do."""
    answer = ddb().update_item(
        TableName=_table(),
        Key={k: to_attr(v) for k, v in keys.counter_key(tenant, kind).items()},
        UpdateExpression="ADD #n :c",
        ExpressionAttributeNames={"#n": "next"},
        ExpressionAttributeValues={":c": to_attr(count)},
        ReturnValues="UPDATED_NEW",
    )
    last = int(answer["Attributes"]["next"]["N"])
    return range(last - count + 1, last + 1)


def _index_attributes(etype: EntityType, tenant: str, record: Mapping[str, Any]) -> dict[str, Any]:
    entity_id = record["id"]
    attrs: dict[str, Any] = {
        "PK": keys.entity_pk(tenant, etype.kind),
        "SK": keys.pad(entity_id),
        "GSI2PK": keys.entity_pk(tenant, etype.kind),
        "GSI2SK": keys.updated_sk(record["updatedAt"], entity_id),
    }
    if etype.parent_kind and etype.parent_field and record.get(etype.parent_field) is not None:
        attrs["GSI1PK"] = keys.parent_pk(tenant, etype.parent_kind, etype.kind)
        attrs["GSI1SK"] = keys.parent_sk(record[etype.parent_field], entity_id)
    for ref in etype.refs:
        attrs.update(_ref_attributes(etype, ref, tenant, record))
    return attrs


def _ref_attributes(etype: EntityType, ref: Ref, tenant: str, record: Mapping[str, Any]) -> dict[str, str]:
    value = record.get(ref.field)
    if value is None:
        return {}
    return {f"GSI{ref.slot}PK": keys.ref_pk(tenant, etype.kind, ref.name, str(value)),
            f"GSI{ref.slot}SK": (f"{record[ref.sort_field]}#{keys.pad(record['id'])}" if ref.sort_field
                                 else keys.pad(record["id"]))}


def add_check(tx: Transaction, etype: EntityType, tenant: str, entity_id: int, condition: str, *,
              names: Mapping[str, str], values: Mapping[str, Any], failure: Any) -> None:
    """A condition on a stored resource, checked when ``tx`` commits (the
    resource must exist and meet ``condition``; nothing of it is written)."""
    tx.check(_table(), {"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(entity_id)},
             f"attribute_exists(PK) AND ({condition})", names=names, values=values, failure=failure)


def add_ref(etype: EntityType, ref: Ref, tenant: str, record: Mapping[str, Any]) -> bool:
    """Put a stored resource on a ref index it was created without (a backfill
    after the index was added); False when it is already on it. One
    conditional update; nothing else of the item changes."""
    attrs = _ref_attributes(etype, ref, tenant, record)
    if not attrs:
        return False
    names = {f"#a{n}": name for n, name in enumerate(attrs)}
    try:
        ddb().update_item(TableName=_table(), Key=to_item({"PK": keys.entity_pk(tenant, etype.kind),
                                                            "SK": keys.pad(record["id"])}),
                          UpdateExpression="SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(attrs))),
                          ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#a0)",
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues=to_item({f":a{n}": v for n, v in enumerate(attrs.values())}))
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False


def _unique_item(etype: EntityType, tenant: str | None, field_name: str, value: Any, entity_id: int,
                 owner_tenant: str) -> dict[str, Any]:
    return {
        "PK": keys.unique_pk(tenant, etype.kind, field_name),
        "SK": normalise_unique(value),
        "id": entity_id,
        "tenantId": owner_tenant,
    }


def public(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}


def create(etype: EntityType, tenant: str, fields: Mapping[str, Any], *,
           entity_id: int | None = None, also: Transaction | None = None) -> dict[str, Any]:
    """Insert a new resource with its uniqueness items, in one transaction.
    ``also`` carries further writes that must succeed or fail with it."""
    record, tx = prepare_create(etype, tenant, fields, entity_id=entity_id)
    if also is not None:
        tx.actions.extend(also.actions)
        tx.failures.extend(also.failures)
    tx.execute()
    return record


def prepare_create(etype: EntityType, tenant: str, fields: Mapping[str, Any], *,
                   entity_id: int | None = None) -> tuple[dict[str, Any], Transaction]:
    """The record and the (not yet executed) writes that create it: for a
    caller that creates several resources in one transaction."""
    if entity_id is None:
        entity_id = allocate_ids(tenant, etype.kind)[0]
    stamp = clock.now_iso()
    record = {**{k: v for k, v in fields.items() if v is not None},
              "id": entity_id, "version": 1, "createdAt": stamp, "updatedAt": stamp}
    item = {**record, **_index_attributes(etype, tenant, record), "kind": etype.kind, "tenantId": tenant}
    tx = Transaction()
    tx.put(_table(), item, condition="attribute_not_exists(PK)")
    for name in etype.unique_fields:
        if record.get(name) is not None:
            tx.put(_table(), _unique_item(etype, tenant, name, record[name], entity_id, tenant),
                   condition="attribute_not_exists(PK)", failure=unique_violation(name, record[name]))
    for name in etype.global_unique_fields:
        if record.get(name) is not None:
            tx.put(_table(), _unique_item(etype, None, name, record[name], entity_id, tenant),
                   condition="attribute_not_exists(PK)", failure=unique_violation(name, record[name]))
    return record, tx


def get_one(etype: EntityType, tenant: str, entity_id: int) -> dict[str, Any] | None:
    if not 0 < entity_id <= keys.MAX_ID:
        return None
    item = get(_table(), {"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(entity_id)})
    return public(item) if item else None


def get_many(etype: EntityType, tenant: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if 0 < i <= keys.MAX_ID})
    found = batch_get(_table(), [{"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(i)} for i in wanted])
    return {item["id"]: public(item) for item in found}


def find_id_by_unique(etype: EntityType, tenant: str | None, field_name: str, value: Any) -> tuple[str, int] | None:
    """(owning tenant, id) of the resource holding a unique value, if any."""
    key = normalise_unique(value)
    if not key:  # blank after normalising: DynamoDB refuses an empty key, and nothing holds one
        return None
    item = get(_table(), {"PK": keys.unique_pk(tenant, etype.kind, field_name), "SK": key})
    return (item["tenantId"], item["id"]) if item else None


@dataclass(frozen=True)
class Page:
    """What a list request asks for. ``where`` filters after reading: it costs
    the same read capacity as a DynamoDB FilterExpression and says more."""

    id_after: int = 0
    limit: int = 100
    offset: int = 0
    updated_since: str | None = None
    where: Callable[[Mapping[str, Any]], bool] | None = None


def every(etype: EntityType, tenant: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Every resource of a type, in id order, read a page at a time (Query,
    never Scan): for backfills and jobs that walk a whole tenant."""
    after = 0
    while True:
        page = list_page(etype, tenant, Page(id_after=after, limit=page_size))
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]["id"]


def list_page(etype: EntityType, tenant: str, page: Page, *,
              parent_id: int | None = None, ref: tuple[Ref, str] | None = None) -> list[dict[str, Any]]:
    """Resources in id order after ``page.id_after``, skipping ``offset`` matches.

    Without ``updated_since`` this reads the id-ordered key (main table, ByParent
    or a ByRef index) from ``id_after`` on and stops as soon as the page is
    full. With it, ByUpdated returns only the items changed since then, which
    are ordered by id in memory (a sync client asks for few changes at a time).
    """
    def matches(item: Mapping[str, Any]) -> bool:
        if parent_id is not None and item.get(etype.parent_field or "") != parent_id:
            return False
        if ref is not None and str(item.get(ref[0].field)) != ref[1]:
            return False
        return page.where is None or page.where(item)

    wanted = page.offset + page.limit
    if page.updated_since is not None:
        changed: list[dict[str, Any]] = []
        for items in query_pages(
            _table(), index="ByUpdated", key_condition="GSI2PK = :pk AND GSI2SK >= :since",
            values={":pk": keys.entity_pk(tenant, etype.kind), ":since": page.updated_since},
        ):
            changed.extend(i for i in items if i["id"] > page.id_after and matches(i))
            if len(changed) > MAX_CHANGED_SCAN:
                raise_too_many_changes()
        changed.sort(key=lambda i: i["id"])
        return [public(i) for i in changed[page.offset:wanted]]

    low = keys.pad(page.id_after + 1)
    high = keys.pad(keys.MAX_ID)
    if parent_id is not None:
        index, pk_name, sk_name = "ByParent", "GSI1PK", "GSI1SK"
        pk = keys.parent_pk(tenant, etype.parent_kind or "", etype.kind)
        low, high = keys.parent_sk(parent_id, page.id_after + 1), keys.parent_sk(parent_id, keys.MAX_ID)
    elif ref is not None:
        if ref[0].sort_field:
            raise ValueError(f"{ref[0].name} is ordered by {ref[0].sort_field}: use query_ref_range")
        index, pk_name, sk_name = f"ByRef{ref[0].slot - 2}", f"GSI{ref[0].slot}PK", f"GSI{ref[0].slot}SK"
        pk = keys.ref_pk(tenant, etype.kind, ref[0].name, ref[1])
    else:
        index, pk_name, sk_name = None, "PK", "SK"
        pk = keys.entity_pk(tenant, etype.kind)
    found: list[dict[str, Any]] = []
    for items in query_pages(
        _table(), index=index, key_condition=f"{pk_name} = :pk AND {sk_name} BETWEEN :low AND :high",
        values={":pk": pk, ":low": low, ":high": high},
        page_size=min(1000, wanted + 1) if page.where is None else 1000,
    ):
        found.extend(i for i in items if page.where is None or page.where(i))
        if len(found) >= wanted:
            break
    return [public(i) for i in found[page.offset:wanted]]


def query_ref_range(etype: EntityType, ref: Ref, tenant: str, value: Any, low: str, high: str, *,
                    page_size: int = 200) -> Iterable[list[dict[str, Any]]]:
    """Pages of the resources whose ``ref.field`` is ``value`` and whose
    ``ref.sort_field`` lies in [low, high] (a prefix of ``high`` matches: the
    sort key goes on with ``#<id>``), in that field's order. A key condition on
    ByRef1/ByRef2: DynamoDB reads only the range, page by page."""
    if not ref.sort_field:
        raise ValueError(f"{ref.name} has no sort field")
    for items in query_pages(
        _table(), index=f"ByRef{ref.slot - 2}",
        key_condition=f"GSI{ref.slot}PK = :pk AND GSI{ref.slot}SK BETWEEN :low AND :high",
        values={":pk": keys.ref_pk(tenant, etype.kind, ref.name, str(value)), ":low": low, ":high": f"{high}~"},
        page_size=page_size,
    ):
        yield [public(i) for i in items]


def children_of(etype: EntityType, tenant: str, parent_ids: Iterable[int],
                where: Callable[[Mapping[str, Any]], bool] | None = None) -> dict[int, list[dict[str, Any]]]:
    """Children of many parents, for expansion: one Query over the contiguous
    ByParent range from the lowest to the highest parent id (a page of parents
    in id order is one range), not one request per parent."""
    wanted = sorted(set(parent_ids))
    found: dict[int, list[dict[str, Any]]] = {p: [] for p in wanted}
    if not wanted:
        return found
    for items in query_pages(
        _table(), index="ByParent", key_condition="GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
        values={":pk": keys.parent_pk(tenant, etype.parent_kind or "", etype.kind),
                ":low": keys.parent_sk(wanted[0], 0), ":high": keys.parent_sk(wanted[-1], keys.MAX_ID)},
        page_size=1000,
    ):
        for item in items:
            parent = item.get(etype.parent_field or "")
            if parent in found and (where is None or where(item)):
                found[parent].append(public(item))
    return found


def raise_too_many_changes() -> None:
    raise ValidationError(
        f"more than {MAX_CHANGED_SCAN} resources changed since updatedSince; use a later time or idAfter paging",
        field="updatedSince",
    )


def update(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
           also: Transaction | None = None) -> dict[str, Any]:
    """Apply ``changes`` (None removes a field) to ``current`` if nobody changed
    it since it was read; raise ConcurrentUpdateError otherwise. Returns the new
    record, built locally: the write itself returns nothing in a transaction."""
    tx, new = update_transaction(etype, tenant, current, changes, also=also)
    tx.execute()
    return new


def update_transaction(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                       also: Transaction | None = None) -> tuple[Transaction, dict[str, Any]]:
    """The writes of ``update`` and the new record, for a caller that runs
    them inside a bigger transaction of its own."""
    entity_id = current["id"]
    stamp = clock.now_iso()
    new = {k: v for k, v in {**current, **changes}.items() if v is not None}
    new.update(version=current["version"] + 1, updatedAt=stamp)
    index_attrs = _index_attributes(etype, tenant, new)
    sets: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
    sets.update(version=new["version"], updatedAt=stamp)
    sets.update({k: v for k, v in index_attrs.items() if k not in ("PK", "SK")})
    removes = [k for k, v in changes.items() if v is None and k in current]
    removes += [f"GSI{r.slot}{p}" for r in etype.refs if new.get(r.field) is None for p in ("PK", "SK")]
    names: dict[str, str] = {}
    values: dict[str, Any] = {":expected": current["version"]}
    set_parts = []
    for n, (name, value) in enumerate(sets.items()):
        names[f"#s{n}"] = name
        values[f":s{n}"] = value
        set_parts.append(f"#s{n} = :s{n}")
    remove_parts = []
    for n, name in enumerate(dict.fromkeys(removes)):
        names[f"#r{n}"] = name
        remove_parts.append(f"#r{n}")
    names["#version"] = "version"
    expression = "SET " + ", ".join(set_parts) + (" REMOVE " + ", ".join(remove_parts) if remove_parts else "")
    tx = Transaction()
    tx.update(_table(), {"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(entity_id)}, expression,
              condition="#version = :expected", values=values, names=names,
              failure=ConcurrentUpdateError("the resource changed while it was being updated"))
    for name in etype.unique_fields:
        if name in changes and normalise_unique(changes[name]) != normalise_unique(current.get(name)):
            if current.get(name) is not None:
                tx.delete(_table(), {"PK": keys.unique_pk(tenant, etype.kind, name),
                                     "SK": normalise_unique(current[name])})
            if changes[name] is not None:
                tx.put(_table(), _unique_item(etype, tenant, name, changes[name], entity_id, tenant),
                       condition="attribute_not_exists(PK)", failure=unique_violation(name, changes[name]))
    if also is not None:
        tx.actions.extend(also.actions)
        tx.failures.extend(also.failures)
    return tx, new
