"""Number inventory, availability, search and reservations (carts).

A reservation larger than one DynamoDB transaction is claimed in chunks under
a cart in state ``claiming`` with a short hold; the chunk that completes it
opens the cart with the customer's hold. If candidates run out, the chunks
already claimed are released before the error is raised, and if the process
dies half-way the short hold expires and the sweeper releases them: either
the whole reservation exists or no number stays held.
"""
from __future__ import annotations

import csv
import os
import random
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib import clock
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import (
    ConcurrentUpdateError, InvalidStateError, NotFoundError, NumberUnavailableError, ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.store.dynamo import entities
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as store
from chalicelib.store.dynamo.schema import CART_IDS, NUMBER_IDS

DEFAULT_HOLD_MINUTES = 30
# How long a bulk reservation may take to claim all its chunks before the
# sweeper treats it as abandoned (a crashed request) and releases them.
CLAIM_LEASE_SECONDS = 120
CLAIM_ATTEMPTS = 8
IMPORT_CHUNK = 90


def hold_minutes() -> int:
    return int(os.environ.get("RESERVATION_HOLD_MINUTES", DEFAULT_HOLD_MINUTES))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Inventory -------------------------------------------------------------------

INVENTORY_HEADER = ("number", "category", "state", "rate_center", "city", "monthly_price", "setup_price")


def parse_inventory_row(row: Mapping[str, str]) -> rules.InventoryRow:
    """One CSV row, validated; ValidationError names the first bad column."""
    import phonenumbers
    from chalicelib.domain.money.amounts import parse_money

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
    release_expired(tenant=principal.tenant_id)
    found = store.counters(principal.tenant_id, f"STATE#{rules.LANDLINE}#")
    return sorted(c["group"] for c in found if int(c.get("count", 0)) > 0)


def available_npanxx(*, principal: Principal, state: str) -> list[dict[str, Any]]:
    principal.require_read()
    st = rules.parse_state(state)
    release_expired(tenant=principal.tenant_id)
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
    release_expired(tenant=principal.tenant_id)
    return store.query_available(principal.tenant_id, criteria, limit=limit)


def lookup_available(*, principal: Principal, number: str) -> list[dict[str, Any]]:
    """The number if it is available, else nothing (one GetItem)."""
    principal.require_read()
    item = store.get_number(principal.tenant_id, rules.parse_number(number, field="NPANXXYYYY"))
    if item and item["status"] == rules.RESERVED:
        release_expired(tenant=principal.tenant_id)
        item = store.get_number(principal.tenant_id, item["number"])
    return [item] if item and item["status"] == rules.AVAILABLE else []


# Reservations ----------------------------------------------------------------

def reserve_numbers(*, principal: Principal, customer: Mapping[str, Any], numbers: Sequence[str],
                    state: str | None = None) -> dict[str, Any]:
    """Reserve these exact numbers (in ``state``, if given) into the customer's cart, all or none."""
    principal.require_write()
    tenant = principal.tenant_id
    release_expired(tenant=tenant)
    wanted = list(dict.fromkeys(numbers))
    found = store.existing(tenant, wanted)
    missing = [n for n in wanted if n not in found or found[n]["status"] != rules.AVAILABLE
               or (state is not None and found[n].get("state") != state)]
    if missing:
        raise NumberUnavailableError(f"not available: {', '.join(missing)}", field="number")
    items = [found[n] for n in wanted]
    return _claim(tenant=tenant, customer_id=customer["id"], quantity=len(items),
                  first_pick=items, more=lambda skip, n: [])


def bulk_reserve(*, principal: Principal, customer: Mapping[str, Any], criteria: rules.Criteria,
                 quantity: int) -> dict[str, Any]:
    """Reserve ``quantity`` available numbers matching ``criteria``, lowest
    first, into the customer's cart: all of them or none."""
    principal.require_write()
    if not 1 <= quantity <= rules.MAX_BULK:
        raise ValidationError("Invalid quantity", field="quantity")
    tenant = principal.tenant_id
    release_expired(tenant=tenant)
    first = store.query_available(tenant, criteria, limit=quantity)
    if len(first) < quantity:
        raise NumberUnavailableError(f"only {len(first)} numbers available", field="quantity")

    def more(skip: frozenset[str], count: int) -> list[dict[str, Any]]:
        return store.query_available(tenant, criteria, limit=count, skip=skip)

    return _claim(tenant=tenant, customer_id=customer["id"], quantity=quantity, first_pick=first, more=more)


CART_ATTEMPTS = 5


def _claim(*, tenant: str, customer_id: int, quantity: int, first_pick: list[dict[str, Any]],
           more: Callable[[frozenset[str], int], list[dict[str, Any]]]) -> dict[str, Any]:
    """Reserve the picked numbers into the customer's Order Cart: the open one
    if there is one (its hold is extended), else a new one that becomes the
    customer's cart. Consecutive reservations of one customer thus share one
    reserveId, and gen_order orders them together (the seed: "All reserved
    DIDs will be added in customer's Order Cart")."""
    for attempt in range(CART_ATTEMPTS):
        current = carts.customer_cart(tenant, customer_id)
        cart = carts.get_cart(tenant, current) if current is not None else None
        if cart is not None and cart["status"] == carts.CLAIMING and cart["holdUntil"] > clock.now_iso():
            # Another reservation of this customer is still starting the cart: join it once it is open.
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
            continue
        joinable = (cart is not None and cart["status"] == carts.OPEN and cart["customerId"] == customer_id
                    and cart["holdUntil"] > clock.now_iso())
        try:
            return _claim_into(tenant=tenant, customer_id=customer_id, quantity=quantity, first_pick=first_pick,
                               more=more, join=cart["reserveId"] if joinable and cart else None, replaces=current)
        except _CartChanged:
            continue  # ordered, emptied or expired meanwhile, or another reservation started a cart: read again
    raise ConcurrentUpdateError("the Order Cart kept changing; try again")


class _CartChanged(Exception):
    """The cart (or the customer's current-cart pointer) changed before the first chunk was written."""


def _claim_into(*, tenant: str, customer_id: int, quantity: int, first_pick: list[dict[str, Any]],
                more: Callable[[frozenset[str], int], list[dict[str, Any]]], join: int | None,
                replaces: int | None) -> dict[str, Any]:
    reserve_id = join if join is not None else entities.allocate_ids(tenant, CART_IDS)[0]
    started = clock.now()
    lease = _iso(started + timedelta(seconds=CLAIM_LEASE_SECONDS))
    hold = _iso(started + timedelta(minutes=hold_minutes()))
    pending = list(first_pick)
    claimed: list[Mapping[str, Any]] = []
    lost: set[str] = set()
    attempts = 0
    try:
        while pending:
            # A new cart's first chunk also writes the customer's cart pointer: one more action.
            chunk = store.chunk_for_transactions(pending, reserved=2, first_only=True)[0]
            last = len(chunk) == len(pending)
            try:
                if join is not None:
                    # Each chunk joins the open cart as it is claimed (a crash half-way leaves the chunks
                    # already claimed in the cart, held until it is ordered, emptied or expires).
                    gone = carts.claim_chunk(tenant, reserve_id=reserve_id, customer_id=customer_id, chunk=chunk,
                                             first=False, join=True, status=carts.OPEN, hold_until=hold,
                                             stamp=clock.now_iso())
                else:
                    gone = carts.claim_chunk(tenant, reserve_id=reserve_id, customer_id=customer_id, chunk=chunk,
                                             first=not claimed, status=carts.OPEN if last else carts.CLAIMING,
                                             hold_until=hold if last else lease, stamp=clock.now_iso(),
                                             replaces=replaces)
            except ConcurrentUpdateError:
                gone = None  # another transaction held one of these items: try again shortly
            except InvalidStateError:
                if not claimed:
                    raise _CartChanged() from None
                raise ConcurrentUpdateError("the Order Cart was ordered or released while numbers were being "
                                            "added to it; reserve the rest again") from None
            if gone == []:
                claimed.extend(chunk)
                pending = pending[len(chunk):]
                continue
            attempts += 1
            if attempts > CLAIM_ATTEMPTS:
                raise ConcurrentUpdateError("numbers are contended; try again")
            if gone is None:
                time.sleep(random.uniform(0.005, 0.05) * attempts)
                continue
            lost.update(gone)
            keep = [i for i in pending if i["number"] not in lost]
            taken = {i["number"] for i in claimed} | {i["number"] for i in keep} | lost
            replacements = more(frozenset(taken), len(pending) - len(keep)) if len(keep) < len(pending) else []
            if len(keep) + len(replacements) < len(pending):
                raise NumberUnavailableError("not enough numbers available", field="quantity"
                                             if quantity > 1 else "number")
            pending = sorted(keep + replacements, key=lambda i: i["number"])
    except BaseException as error:
        if claimed and not isinstance(error, _CartChanged):
            if join is None:
                _release_items(tenant, {"reserveId": reserve_id}, claimed, delete_cart=True)
            else:
                # Only this call's numbers leave the cart, and only while it is open: an order made
                # from the cart meanwhile keeps what it was made from.
                _release_items(tenant, {"reserveId": reserve_id}, claimed, delete_cart=False, open_only=True)
        raise
    numbers = sorted(i["number"] for i in claimed)
    audit.touch("cart", reserve_id)
    return {"reserveId": reserve_id, "numbers": numbers, "expiresAt": hold}


def _release_items(tenant: str, cart: Mapping[str, Any], items: Sequence[Mapping[str, Any]], *,
                   delete_cart: bool, open_only: bool = False, open_at: str | None = None) -> list[str]:
    """Put ``items`` back to availability chunk by chunk; the last chunk also
    deletes the cart when asked. ``open_only``: only while the cart is still
    open; ``open_at``: and held past then. Returns numbers the cart no longer held."""
    not_held: list[str] = []
    chunks = store.chunk_for_transactions(items, reserved=1)
    if not chunks and delete_cart:
        carts.delete_cart(tenant, cart["reserveId"])
    for n, chunk in enumerate(chunks):
        while chunk:
            gone = carts.release_chunk(tenant, cart=cart, chunk=chunk, stamp=clock.now_iso(), open_only=open_only,
                                       open_at=open_at,
                                       delete_cart=delete_cart and n == len(chunks) - 1)
            if not gone:
                break
            not_held.extend(gone)
            chunk = [i for i in chunk if i["number"] not in gone]
            if not chunk and delete_cart and n == len(chunks) - 1:
                carts.delete_cart(tenant, cart["reserveId"])
    return not_held


def get_own_cart(*, principal: Principal, customer: Mapping[str, Any], reserve_id: Any) -> dict[str, Any]:
    """The customer's open, unexpired cart; NotFoundError names reserveId otherwise
    (another customer's cart is not told apart from a missing one)."""
    try:
        rid = int(str(reserve_id).strip())
    except ValueError:
        raise NotFoundError("Invalid reserveId", field="reserveId") from None
    cart = carts.get_cart(principal.tenant_id, rid)
    if (cart is None or cart["customerId"] != customer["id"] or cart["status"] != carts.OPEN
            or cart["holdUntil"] <= clock.now_iso()):
        raise NotFoundError("Invalid reserveId", field="reserveId")
    return cart


def get_customer_cart(*, principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's open Order Cart (the one its reservations join)."""
    current = carts.customer_cart(principal.tenant_id, customer["id"])
    if current is None:
        raise NotFoundError("Invalid reserveId: the Order Cart is empty, reserve numbers first")
    try:
        return get_own_cart(principal=principal, customer=customer, reserve_id=current)
    except NotFoundError:
        raise NotFoundError("Invalid reserveId: the Order Cart is empty, reserve numbers first") from None


def remove_reserved(*, principal: Principal, customer: Mapping[str, Any], reserve_id: Any,
                    numbers: Sequence[str] | None) -> dict[str, list[str]]:
    """Return all or the listed numbers of the cart to availability; reports
    those that were not in it."""
    principal.require_write()
    tenant = principal.tenant_id
    cart = get_own_cart(principal=principal, customer=customer, reserve_id=reserve_id)
    held = set(cart.get("numbers") or ())
    wanted = sorted(held) if not numbers else list(dict.fromkeys(numbers))
    absent = [n for n in wanted if n not in held]
    present = [n for n in wanted if n in held]
    items = list(store.existing(tenant, present).values())
    everything = set(present) == held
    not_held = _release_items(tenant, cart, sorted(items, key=lambda i: i["number"]), delete_cart=everything,
                              open_at=clock.now_iso())
    removed = [n for n in present if n not in not_held]
    audit.touch("cart", cart["reserveId"])
    return {"removed": removed, "not_available": absent + not_held}


def release_cart(*, tenant: str, cart: Mapping[str, Any]) -> int:
    """Return every number still held by ``cart`` and delete it (expiry, a
    failed order). Safe to repeat: numbers already back are skipped."""
    numbers = sorted(cart.get("numbers") or ())
    items = [i for i in store.existing(tenant, numbers).values()
             if i["status"] == rules.RESERVED and i.get("reserveId") == cart["reserveId"]]
    _release_items(tenant, cart, sorted(items, key=lambda i: i["number"]), delete_cart=True)
    return len(items)


def release_expired(*, tenant: str, limit: int = 25) -> int:
    """Release the carts whose hold has ended. Called at the start of every
    read that shows availability (one Query, usually empty) and by the
    scheduled sweeper, so expired numbers come back without anyone acting."""
    now = clock.now_iso()
    released = 0
    for cart in carts.expired_carts(tenant, now, limit=limit):
        if cart["status"] in (carts.OPEN, carts.CLAIMING):
            if not carts.mark_cart(tenant, cart["reserveId"], status=carts.RELEASING,
                                   expected=(carts.OPEN, carts.CLAIMING), stamp=now, expired_before=now):
                continue  # ordered or extended meanwhile
        elif cart["status"] != carts.RELEASING:
            continue
        released += release_cart(tenant=tenant, cart=cart)
    return released


def sweep_all(*, tenants: Iterable[str]) -> dict[str, int]:
    """The scheduled sweeper: expired carts of every tenant."""
    return {t: n for t in tenants if (n := release_expired(tenant=t, limit=1000))}


# The customer's numbers --------------------------------------------------------

MAX_UPDATE = 100  # one transaction: an update of several numbers is all or nothing


def owned_numbers(*, principal: Principal, customer: Mapping[str, Any], category: str | None = None,
                  status: str | None = None, trunk_id: int | None = None,
                  order_id: int | None = None) -> list[dict[str, Any]]:
    """The customer's numbers (ByParent Query), filtered."""
    principal.require_read()
    found = store.owned(principal.tenant_id, customer["id"])
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
    if store.update_owned(tenant, customer["id"], list(numbers), changes, stamp=clock.now_iso()):
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
    for page in store.numbers_without_ids(tenant):
        for start in range(0, len(page), BACKFILL_CHUNK):
            chunk = page[start:start + BACKFILL_CHUNK]
            ids = entities.allocate_ids(tenant, NUMBER_IDS, len(chunk))
            pairs = list(zip(chunk, ids))
            while pairs:
                taken = set(store.give_ids(tenant, pairs))
                if not taken:
                    assigned += len(pairs)
                    break
                skipped += len(taken)
                pairs = [(item, number_id) for item, number_id in pairs if item["number"] not in taken]
            if progress:
                progress(len(chunk))
    return {"tenant": tenant, "assigned": assigned, "alreadyHadId": skipped}
