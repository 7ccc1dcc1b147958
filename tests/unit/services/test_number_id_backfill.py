"""backfill-number-ids: numbers stocked before integer ids existed get one,
with its id lookup item; numbers that have one keep it; a re-run changes nothing."""
from chalicelib.services.numbers import inventory
from chalicelib.store.dynamo import keys
from chalicelib.store.numbers import inventory as store
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.dynamo.table import ddb, get
from chalicelib.store.dynamo.codec import to_item
from chalicelib import settings
from tests.support.worlds.numbers import import_landlines

STOCK = [f"2062190{n:03d}" for n in range(120)]


def _make_legacy(tenant, numbers):
    """What an item written before ids looked like: no id, no lookup item."""
    for number in numbers:
        item = store.get_number(tenant, number)
        ddb().update_item(TableName=settings.main_table(), Key=to_item(keys.number_key(tenant, number)),
                          UpdateExpression="REMOVE id")
        ddb().delete_item(TableName=settings.main_table(), Key=to_item(keys.number_id_key(tenant, item["id"])))


def _ids(tenant):
    return {n: store.get_number(tenant, n).get("id") for n in STOCK}


def test_backfill_gives_legacy_numbers_ids_once(tenant):
    t = tenant["tenant"]["id"]
    import_landlines(t, STOCK)
    legacy = sorted(set(STOCK[::2]) | set(STOCK[101:]))  # 69: more than one transaction's worth
    kept = {n: i for n, i in _ids(t).items() if n not in legacy}
    _make_legacy(t, legacy)
    assert all(store.get_number(t, n).get("id") is None for n in legacy)

    seen = []
    summary = inventory.backfill_ids(tenant=t, progress=seen.append)
    assert (summary["assigned"], summary["alreadyHadId"]) == (len(legacy), 0)
    assert sum(seen) == len(legacy)
    after = _ids(t)
    assert {n: after[n] for n in kept} == kept  # ids already given are never changed
    new = [after[n] for n in legacy]
    assert all(isinstance(i, int) for i in new) and len(set(after.values())) == len(STOCK)  # unique
    assert min(new) > max(kept.values())  # fresh ids from the counter, no reuse
    for number in legacy:
        assert owned_numbers.number_by_id(t, after[number])["number"] == number  # the lookup item exists
    # Idempotent: a second run finds nothing to do and changes nothing.
    assert inventory.backfill_ids(tenant=t)["assigned"] == 0
    assert _ids(t) == after


def test_a_number_given_an_id_meanwhile_keeps_it(tenant):
    t = tenant["tenant"]["id"]
    import_landlines(t, STOCK[:3])
    _make_legacy(t, STOCK[:3])
    items = [store.get_number(t, n) for n in STOCK[:3]]
    # Another run gave the middle one id 900 first: this transaction writes nothing, reports it.
    assert owned_numbers.give_ids(t, [(items[1], 900)]) == []
    assert owned_numbers.give_ids(t, [(items[0], 901), (items[1], 902), (items[2], 903)]) == [STOCK[1]]
    assert [store.get_number(t, n).get("id") for n in STOCK[:3]] == [None, 900, None]
    assert get(settings.main_table(), keys.number_id_key(t, 901)) is None
    summary = inventory.backfill_ids(tenant=t)
    assert summary["assigned"] == 2 and store.get_number(t, STOCK[1])["id"] == 900
