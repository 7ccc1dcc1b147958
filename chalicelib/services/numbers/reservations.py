"""Reservations: numbers held in a customer's cart until it is ordered or
its hold ends.

A reservation larger than one DynamoDB transaction is claimed in chunks under
a cart in state ``claiming`` with a short hold; the chunk that completes it
opens the cart with the customer's hold. If candidates run out, the chunks
already claimed are released before the error is raised, and if the process
dies half-way the short hold expires and the sweeper releases them: either
the whole reservation exists or no number stays held.
"""
from __future__ import annotations

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
from chalicelib.store.dynamo.schema import CART_IDS

DEFAULT_HOLD_MINUTES = 30
# How long a bulk reservation may take to claim all its chunks before the
# sweeper treats it as abandoned (a crashed request) and releases them.
CLAIM_LEASE_SECONDS = 120
CLAIM_ATTEMPTS = 8


def hold_minutes() -> int:
    return int(os.environ.get("RESERVATION_HOLD_MINUTES", DEFAULT_HOLD_MINUTES))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    # Count what this call put back: a sweeper running at the same time may
    # have released some first (those are in the not-held list).
    not_held = _release_items(tenant, cart, sorted(items, key=lambda i: i["number"]), delete_cart=True)
    return len(items) - len(not_held)


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
