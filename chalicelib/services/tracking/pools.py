"""Session number pools (CallRail's session tracking, beyond the document).

A source may hold a pool of numbers besides its own. ``number_for_session``
hands a web visitor's session one number of the pool: the same number again
while the session is live (each request extends it by SESSION_SECONDS), else
the pool number least recently handed out that no live session holds (the
least recently handed out of all when every one is held). A hand-out is a
conditional write on the number's ``lastHandedAt``, so two sessions racing
for the same number cannot both get it; the loser takes the next one. Each
hand-out is recorded per number with its period, and calls to the number
during it carry the ``session`` in statistics/cdrs.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import ConcurrentUpdateError, NumberUnavailableError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.tracking import customers, sources
from chalicelib.store.tracking import pools as pool_store, sources as source_store
from chalicelib.store.dynamo.table import Transaction
from chalicelib import clock

ATTEMPTS = 5


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def add_pool_numbers(*, principal: Principal, source_id: int, customer_id: int | None,
                     given: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``number`` (or ``quantity`` numbers found by areacode / state /
    tollfree) to the source's pool, each sold or taken as a source's number is."""
    principal.require_write()
    source = sources.get_source(principal=principal, source_id=source_id, customer_id=customer_id)
    if not source.get("active"):
        raise ValidationError("the source is inactive", field="source_id")
    customer = customers.get_customer(principal=principal, customer_id=source["customerId"])
    criteria: str | None = None
    if given.get("number"):
        candidates = [number_rules.parse_number(given["number"], field="number")]
        quantity = 1
    else:
        text = str(given.get("quantity") or "1")
        if not text.isdigit() or not 1 <= int(text) <= rules.MAX_POOL:
            raise ValidationError(f"quantity must be 1-{rules.MAX_POOL}", field="quantity")
        quantity = int(text)
        criteria = sources.criteria_key(given, scope=f"pool{source['id']}")
        candidates = sources.candidates_for(principal, customer, given, criteria=criteria)
    pool = list(source.get("pool") or [])
    since_of = dict(source.get("poolSince") or {})
    if len(pool) + quantity > rules.MAX_POOL:
        raise ValidationError(f"a pool holds at most {rules.MAX_POOL} numbers", field="quantity")
    added: list[str] = []
    tenant = principal.tenant_id
    for number in candidates:
        if len(added) == quantity:
            break
        if number in pool or number == source["number"]:
            continue
        try:
            sources._take_number(principal, customer, number, criteria=criteria)
            tx = Transaction()
            since = clock.now_iso()
            sources.holding_source(tx, tenant, customer_id=customer["id"], number=number, source_id=source["id"],
                                   since=since)
            tx.execute()
        except NumberUnavailableError:
            # Not available, or taken by another source after our check: the next candidate.
            if given.get("number"):
                raise
            continue
        since_of[number] = since
        pool_store.put_pool_numbers(tenant, source["id"], [number])
        added.append(number)
        pool.append(number)
    if len(added) < quantity:
        raise NumberUnavailableError(f"only {len(added)} of {quantity} numbers could be added", field="quantity")
    current = sources.get_source(principal=principal, source_id=source_id)
    return source_store.update_source(tenant, current, {"pool": pool, "poolSince": since_of})


def number_for_session(*, principal: Principal, source_id: int, customer_id: int | None,
                       session: str | None) -> tuple[dict[str, Any], str, str]:
    """(source, number, session end) for the visitor's session."""
    principal.require_read()
    if not session or not rules.SESSION_PATTERN.match(session):
        raise ValidationError("session must be 1-128 letters, digits or . _ : -", field="session")
    source = sources.get_source(principal=principal, source_id=source_id, customer_id=customer_id)
    if not source.get("active"):
        raise ValidationError("the source is inactive", field="source_id")
    tenant = principal.tenant_id
    now = clock.now()
    until = _stamp(now + timedelta(seconds=rules.SESSION_SECONDS))
    expires = clock.epoch() + rules.SESSION_SECONDS + 86400
    if not source.get("pool"):
        return source, source["number"], until
    live = pool_store.live_session(tenant, source["id"], session)
    if live is not None and str(live["until"]) > _stamp(now):
        pool_store.extend_session(tenant, source["id"], session=session, number=live["number"],
                                  started=live["from"], until=until, expires_at=expires)
        return source, live["number"], until
    for _ in range(ATTEMPTS):
        pool = pool_store.pool(tenant, source["id"])
        if not pool:
            return source, source["number"], until
        free = [p for p in pool if str(p.get("sessionUntil") or "") <= _stamp(now)]
        pick = min(free or pool, key=lambda p: (str(p.get("lastHandedAt") or ""), p["number"]))
        if pool_store.hand_out(tenant, source["id"], number=pick["number"],
                               previous=str(pick.get("lastHandedAt") or ""), session=session, now=_stamp(now),
                               until=until, expires_at=expires):
            return source, pick["number"], until
    raise ConcurrentUpdateError("the pool is busy; try again")
