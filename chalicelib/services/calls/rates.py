"""Rate decks: a tenant's deck per direction, and a customer's own deck that
overrides it, stored as CSV blobs ``rates/<direction>/<TENANT|customerId>.csv``
(docs/cdrs.md, "Rating"). ``import_rates`` replaces one; ``decks`` reads them
all for a day's rating."""
from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.calls import cdrs as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.services.calls.engine import Deck
from chalicelib.services.calls.shared import MAX_REPORTED_ERRORS, require_tenant
from chalicelib.services.customers.accounts import customer_id_for_account
from chalicelib.store import blobs
from chalicelib.store import calls as store


def import_rates(*, tenant: str, direction: str, path: str, account_number: str | None = None) -> dict[str, Any]:
    """Replace the tenant's (or one customer's) deck for a direction. Bad rows are
    reported and the deck is refused: half a deck would rate calls wrongly."""
    require_tenant(tenant)
    if direction not in rules.DIRECTIONS:
        raise ValidationError("direction must be inbound or outbound", field="direction")
    owner = "TENANT"
    if account_number:
        owner = str(customer_id_for_account(tenant=tenant, account_number=account_number))
    errors: list[dict[str, Any]] = []
    rates: dict[str, rules.Rate] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None or tuple(f.strip().lower() for f in first) != rules.RATE_HEADER:
            raise ValidationError("the header must be " + ",".join(rules.RATE_HEADER), field="file")
        for fields in reader:
            if not fields:
                continue
            try:
                rate = rules.parse_rate(fields)
                rates[rate.prefix] = rate
            except rules.BadRow as error:
                errors.append({"line": reader.line_num, "reason": str(error)})
    if errors:
        return {"imported": 0, "rejected": len(errors), "errors": errors[:MAX_REPORTED_ERRORS]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rules.RATE_HEADER)
    for r in sorted(rates.values(), key=lambda r: r.prefix):
        writer.writerow([r.prefix, r.rate, r.connect_fee, r.initial_increment, r.increment])
    blobs.put(tenant, f"rates/{direction}/{owner}.csv", out.getvalue().encode("utf-8"), content_type="text/csv")
    return {"imported": len(rates), "rejected": 0, "direction": direction, "deck": owner}


def _deck(tenant: str, direction: str, owner: str) -> rules.RateDeck:
    reader = csv.reader(io.StringIO(blobs.get(tenant, f"rates/{direction}/{owner}.csv").decode("utf-8")))
    next(reader)
    return rules.RateDeck({r.prefix: r for r in (rules.parse_rate(f) for f in reader if f)})


def decks(tenant: str) -> list[Any]:
    """Every deck of the tenant (its own and its customers'): one listing, then
    the decks present, read in parallel."""
    wanted = []
    for key in store.list_keys(tenant, "rates/"):
        pieces = key.split("/")
        if len(pieces) == 3 and pieces[2].endswith(".csv") and pieces[1] in rules.DIRECTIONS:
            wanted.append((pieces[1], pieces[2][:-4]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda w: _deck(tenant, w[0], w[1]), wanted))
    return [Deck(owner, direction, deck.rates) for (direction, owner), deck in zip(wanted, loaded)]

