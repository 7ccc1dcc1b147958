"""The generic repository on moto: ids, uniqueness, versions, listing."""
import threading

import pytest

from chalicelib import clock
from chalicelib.domain.errors import AlreadyExistsError, ConcurrentUpdateError
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import EntityType, Page, Ref

THING = EntityType(kind="THING", unique_fields=("code",), refs=(Ref(slot=3, name="OWNER", field="owner"),))
CHILD = EntityType(kind="CHILD", parent_kind="THING", parent_field="thingId")


@pytest.fixture()
def t(tenant):
    return tenant["tenant"]["id"]


def test_ids_are_per_tenant_and_type(aws, t):
    other = "t-other-" + t
    assert list(entities.allocate_ids(t, "THING", 3)) == [1, 2, 3]
    assert list(entities.allocate_ids(t, "THING")) == [4]
    assert list(entities.allocate_ids(t, "CHILD")) == [1]
    assert list(entities.allocate_ids(other, "THING")) == [1]


def test_unique_values_are_refused_and_nothing_is_written(aws, t):
    entities.create(THING, t, {"code": "ABC"})
    with pytest.raises(AlreadyExistsError) as raised:
        entities.create(THING, t, {"code": "abc"})
    assert raised.value.field == "code"
    assert [x["code"] for x in entities.list_page(THING, t, Page())] == ["ABC"]
    # another tenant may use the same value
    entities.create(THING, "t-other-" + t, {"code": "ABC"})


def test_update_is_conditional_on_the_version(aws, t):
    created = entities.create(THING, t, {"code": "V1", "label": "a"})
    updated = entities.update(THING, t, created, {"label": "b"})
    assert updated["version"] == 2 and entities.get_one(THING, t, created["id"])["label"] == "b"
    with pytest.raises(ConcurrentUpdateError):
        entities.update(THING, t, created, {"label": "stale"})
    assert entities.get_one(THING, t, created["id"])["label"] == "b"


def test_changing_a_unique_field_moves_its_claim(aws, t):
    created = entities.create(THING, t, {"code": "OLD"})
    entities.update(THING, t, created, {"code": "NEW"})
    entities.create(THING, t, {"code": "OLD"})  # freed
    with pytest.raises(AlreadyExistsError):
        entities.create(THING, t, {"code": "NEW"})


def test_listing_in_id_order_with_paging(aws, t):
    made = [entities.create(THING, t, {"n": n})["id"] for n in range(12)]
    assert [x["id"] for x in entities.list_page(THING, t, Page(limit=5))] == made[:5]
    assert [x["id"] for x in entities.list_page(THING, t, Page(limit=5, offset=5))] == made[5:10]
    assert [x["id"] for x in entities.list_page(THING, t, Page(id_after=made[9]))] == made[10:]
    odd = entities.list_page(THING, t, Page(limit=3, where=lambda x: x["n"] % 2 == 1))
    assert [x["n"] for x in odd] == [1, 3, 5]


def test_updated_since_lists_only_changed_items_in_id_order(aws, t):
    first = entities.create(THING, t, {"n": 1})
    second = entities.create(THING, t, {"n": 2})
    mark = clock.now_iso()
    entities.create(THING, t, {"n": 3})
    entities.update(THING, t, second, {"n": 22})
    entities.update(THING, t, first, {"n": 11})
    changed = entities.list_page(THING, t, Page(updated_since=mark))
    assert [x["n"] for x in changed] == [11, 22, 3]


def test_children_of_a_parent_and_ref_lookups(aws, t):
    a = entities.create(THING, t, {"owner": 7})
    b = entities.create(THING, t, {"owner": 8})
    for parent in (a, b, a):
        entities.create(CHILD, t, {"thingId": parent["id"]})
    kids = entities.list_page(CHILD, t, Page(), parent_id=a["id"])
    assert [k["thingId"] for k in kids] == [a["id"], a["id"]]
    owned = entities.list_page(THING, t, Page(), ref=(THING.refs[0], "7"))
    assert [x["id"] for x in owned] == [a["id"]]
    entities.update(THING, t, a, {"owner": None})
    assert entities.list_page(THING, t, Page(), ref=(THING.refs[0], "7")) == []


def test_get_many_reads_in_batches(aws, t):
    made = [entities.create(THING, t, {"n": n})["id"] for n in range(130)]
    found = entities.get_many(THING, t, made + [999999])
    assert sorted(found) == made


def test_children_of_many_parents_in_one_range(aws, t):
    parents = [entities.create(THING, t, {"n": n})["id"] for n in range(4)]
    for parent in parents[:3]:
        for _ in range(2):
            entities.create(CHILD, t, {"thingId": parent})
    found = entities.children_of(CHILD, t, parents[:2] + [parents[3]])
    assert {p: len(k) for p, k in found.items()} == {parents[0]: 2, parents[1]: 2, parents[3]: 0}
    page = entities.list_page(CHILD, t, Page(limit=1), parent_id=parents[1])
    rest = entities.list_page(CHILD, t, Page(id_after=page[0]["id"]), parent_id=parents[1])
    assert len(page) == 1 and len(rest) == 1 and rest[0]["thingId"] == parents[1]


DATED = EntityType(kind="DATED", refs=(Ref(slot=4, name="OWNER", field="owner", sort_field="day"),))


def test_a_ref_with_a_sort_field_serves_ranges_as_key_conditions(aws, t):
    for n, (owner, day) in enumerate([("a", "2025-03-02"), ("a", "2025-02-28"), ("b", "2025-03-01"),
                                      ("a", "2025-03-01"), ("a", "2025-03-31"), ("a", "2025-04-01")]):
        entities.create(DATED, t, {"owner": owner, "day": day, "n": n})
    ref = DATED.refs[0]
    pages = list(entities.query_ref_range(DATED, ref, t, "a", "2025-03-01", "2025-03-31", page_size=2))
    assert [[i["n"] for i in p] for p in pages if p] == [[3, 0], [4]]  # by day, paged, owner a only
    assert [i["n"] for p in entities.query_ref_range(DATED, ref, t, "a", "2025-03-31", "2025-03-31") for i in p] == [4]
    with pytest.raises(ValueError):
        entities.list_page(DATED, t, Page(), ref=(ref, "a"))
