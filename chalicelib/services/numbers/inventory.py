"""Number inventory: the import of stock, availability and search, the
customer's numbers, and id backfill. Reservations (carts) are in
``reservations``; every read that shows availability first returns the numbers
of expired carts.
"""
from __future__ import annotations

import csv
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib import clock
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import (
    ConcurrentUpdateError, NotFoundError, NumberUnavailableError, ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import parse_money
from chalicelib.services.common import audit
from chalicelib.store.dynamo import entities
from chalicelib.services.numbers import reservations
from chalicelib.store.numbers import inventory as store
from chalicelib.store.numbers import owned as owned_store
from chalicelib.store.dynamo.schema import NUMBER_IDS

IMPORT_CHUNK = 90


# Inventory -------------------------------------------------------------------

INVENTORY_HEADER = ("number", "category", "state", "rate_center", "city", "monthly_price", "setup_price")


def parse_inventory_row(row: Mapping[str, str]) -> rules.InventoryRow:
    """One CSV row, validated; ValidationError names the first bad column."""
    import phonenumbers

    text = (row.get("number") or "").strip()
    if not (len(text) == 10 and text.isdigit()):
        raise ValidationError("number must be 10 digits", field="number")
    parsed = phonenumbers.parse("+1" + text, None)
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"{text} is not a valid NANP number", field="number")
    category = rules.parse_category(row.get("category"))
    kind = phonenumbers.number_type(parsed)
    state = (row.get("state") or "").strip().upper()
    if category == rules.TOLLFREE:
        if kind != phonenumbers.PhoneNumberType.TOLL_FREE or text[:3] not in rules.TOLLFREE_PREFIXES:
            raise ValidationError(f"{text} is not a toll-free number", field="number")
        if state:
            raise ValidationError("state must be empty for toll-free numbers", field="state")
    else:
        if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
            raise ValidationError(f"{text} is a toll-free number", field="category")
        state = rules.parse_state(state)
    monthly = parse_money((row.get("monthly_price") or "").strip(), field="monthly_price")
    setup = parse_money((row.get("setup_price") or "").strip(), field="setup_price")
    if monthly < 0 or setup < 0:
        raise ValidationError("prices cannot be negative", field="monthly_price" if monthly < 0 else "setup_price")
    return rules.InventoryRow(number=text, category=category, state=state,
                              rate_center=(row.get("rate_center") or "").strip().upper(),
                              city=(row.get("city") or "").strip().upper(), monthly_price=monthly, setup_price=setup)


def import_numbers(*, tenant: str, lines: Iterable[str],
                   progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Load inventory from CSV text. Numbers already present are left as they
    are (a re-run adds nothing); rejected rows are reported with reasons."""
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != INVENTORY_HEADER:
        raise ValidationError(f"header must be {','.join(INVENTORY_HEADER)}", field="header")
    added = existing = 0
    rejected: list[dict[str, Any]] = []
    batch: dict[str, rules.InventoryRow] = {}

    def flush() -> None:
        nonlocal added, existing
        rows = list(batch.values())
        batch.clear()
        there = store.existing(tenant, [r.number for r in rows])
        fresh = [r for r in rows if r.number not in there]
        existing += len(rows) - len(fresh)
        store.put_npanxx_directory(tenant, {r.npanxx: r.state for r in fresh if r.category == rules.LANDLINE})
        stamp = clock.now_iso()
        # One counter update gives the block its ids; numbers already there keep theirs.
        ids = entities.allocate_ids(tenant, NUMBER_IDS, len(fresh)) if fresh else range(0)
        items = [store.number_item(tenant, r, stamp, number_id) for r, number_id in zip(fresh, ids)]
        for chunk in store.chunk_for_transactions(items, 0, per_item=2):
            while chunk:
                clashes = store.insert_available(tenant, chunk)
                if not clashes:
                    added += len(chunk)
                    break
                # Another import added some of these meanwhile: drop them and retry.
                existing += len(clashes)
                lost = {chunk[n]["number"] for n in clashes}
                chunk = [i for i in chunk if i["number"] not in lost]
        if progress:
            progress(len(rows))

    for line_no, row in enumerate(reader, start=2):
        try:
            parsed = parse_inventory_row(row)
        except ValidationError as error:
            rejected.append({"line": line_no, "number": (row.get("number") or "").strip(),
                             "field": error.field, "reason": error.message})
            if progress:
                progress(1)
            continue
        if parsed.number in batch:
            rejected.append({"line": line_no, "number": parsed.number, "field": "number",
                             "reason": "duplicate of an earlier row"})
            continue
        batch[parsed.number] = parsed
        if len(batch) >= IMPORT_CHUNK * 5:
            flush()
    if batch:
        flush()
    return {"tenant": tenant, "added": added, "existing": existing, "rejected": len(rejected),
            "rejections": rejected}


# Availability and search -----------------------------------------------------

def available_states(*, principal: Principal) -> list[str]:
    """States with at least one available landline number (counter items, one Query)."""
    principal.require_read()
    reservations.release_expired(tenant=principal.tenant_id)
    found = store.counters(principal.tenant_id, f"STATE#{rules.LANDLINE}#")
    return sorted(c["group"] for c in found if int(c.get("count", 0)) > 0)


def available_npanxx(*, principal: Principal, state: str) -> list[dict[str, Any]]:
    principal.require_read()
    st = rules.parse_state(state)
    reservations.release_expired(tenant=principal.tenant_id)
    found = store.counters(principal.tenant_id, f"NPANXX#{st}#")
    return [{"npanxx": c["npanxx"], "npa": c["npanxx"][:3], "rateCenter": c.get("rateCenter", ""),
             "count": int(c["count"])} for c in found if int(c.get("count", 0)) > 0]


def resolve_criteria(*, tenant: str, category: str, state: str | None = None, npanxx: str | None = None,
                     city: str | None = None, tfn_prefix: str | None = None) -> rules.Criteria:
    """Validated criteria; an NPANXX given without a state gets its state from
    the inventory's NPANXX directory (an NPANXX not stocked has no numbers)."""
    found = rules.criteria(category=category, state=state, npanxx=npanxx, city=city, tfn_prefix=tfn_prefix)
    if found.category == rules.LANDLINE and found.npanxx:
        known = store.state_of_npanxx(tenant, found.npanxx)
        if known is None or (found.state and known != found.state):
            raise NumberUnavailableError("no numbers in this NPANXX", field="npanxx")
        if found.state is None:
            found = rules.Criteria(category=found.category, state=known, npanxx=found.npanxx, city=found.city)
    return found


def search(*, principal: Principal, criteria: rules.Criteria, limit: int = 100) -> list[dict[str, Any]]:
    """Available numbers in ascending order (ByRef1 Query)."""
    principal.require_read()
    reservations.release_expired(tenant=principal.tenant_id)
    return store.query_available(principal.tenant_id, criteria, limit=limit)


def lookup_available(*, principal: Principal, number: str) -> list[dict[str, Any]]:
    """The number if it is available, else nothing (one GetItem)."""
    principal.require_read()
    item = store.get_number(principal.tenant_id, rules.parse_number(number, field="NPANXXYYYY"))
    if item and item["status"] == rules.RESERVED:
        reservations.release_expired(tenant=principal.tenant_id)
        item = store.get_number(principal.tenant_id, item["number"])
    return [item] if item and item["status"] == rules.AVAILABLE else []


# The customer's numbers --------------------------------------------------------

MAX_UPDATE = 100  # one transaction: an update of several numbers is all or nothing


def owned_numbers(*, principal: Principal, customer: Mapping[str, Any], category: str | None = None,
                  status: str | None = None, trunk_id: int | None = None,
                  order_id: int | None = None) -> list[dict[str, Any]]:
    """The customer's numbers (ByParent Query), filtered."""
    principal.require_read()
    found = owned_store.owned(principal.tenant_id, customer["id"])
    return [i for i in found
            if (category is None or i["category"] == category) and (status is None or i["status"] == status)
            and (trunk_id is None or i.get("trunkId") == trunk_id)
            and (order_id is None or i.get("orderId") == order_id)]


def update_numbers(*, principal: Principal, customer: Mapping[str, Any], numbers: Sequence[str],
                   status: str | None = None, trunk_id: int | None = None, cnam: str | None = None) -> list[str]:
    """Change status, trunk or CNAM of the customer's numbers, all or none."""
    principal.require_write()
    if len(numbers) > MAX_UPDATE:
        raise ValidationError("Invalid number", field="number")
    changes: dict[str, Any] = {}
    if status is not None:
        changes["status"] = status
    if trunk_id is not None:
        changes["trunkId"] = trunk_id
    if cnam is not None:
        changes["cnam"] = cnam
    if not changes:
        raise ValidationError("Invalid status", field="status")
    tenant = principal.tenant_id
    current = store.existing(tenant, list(numbers))
    for number in numbers:
        item = current.get(number)
        if item is None or item.get("customerId") != customer["id"] or item["status"] not in rules.OWNED:
            raise NotFoundError("Invalid number", field="number")
    if owned_store.update_owned(tenant, customer["id"], list(numbers), changes, stamp=clock.now_iso()):
        raise ConcurrentUpdateError("a number changed while it was being updated; try again")
    audit.touch("number", ",".join(numbers))
    return list(numbers)


# Integer ids for numbers stocked before they existed ----------------------------

BACKFILL_CHUNK = 50  # two writes per number in one transaction of at most 100


def backfill_ids(*, tenant: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Give every number of the tenant that has no integer id one, with its id
    lookup item (the billing API's /numbers/{id}). Idempotent: numbers that
    have an id are left alone, and each write is conditional on the number
    still having none, so a second run (or one racing this) gives no number
    two ids; ids lost that way are gaps, as sequences have."""
    assigned = skipped = 0
    for page in owned_store.numbers_without_ids(tenant):
        for start in range(0, len(page), BACKFILL_CHUNK):
            chunk = page[start:start + BACKFILL_CHUNK]
            ids = entities.allocate_ids(tenant, NUMBER_IDS, len(chunk))
            pairs = list(zip(chunk, ids))
            while pairs:
                taken = set(owned_store.give_ids(tenant, pairs))
                if not taken:
                    assigned += len(pairs)
                    break
                skipped += len(taken)
                pairs = [(item, number_id) for item, number_id in pairs if item["number"] not in taken]
            if progress:
                progress(len(chunk))
    return {"tenant": tenant, "assigned": assigned, "alreadyHadId": skipped}
