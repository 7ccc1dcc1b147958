"""Carrier API, origination: availability, search, reservations, my numbers."""
from __future__ import annotations

from typing import Any, Mapping

from chalice import Response

from chalicelib.api.carrier.core import Call, InvalidParameter, endpoint, ok
from chalicelib.domain import numbers as rules
from chalicelib.domain.errors import NumberUnavailableError
from chalicelib.services import numbers

SEARCH_LIMIT = 100


def _tn(item: Mapping[str, Any]) -> dict[str, str]:
    return {"TN": item["number"], "statusid": "0"}


@endpoint("availabilitystate")
def availability_state(call: Call) -> Response:
    return ok(data=numbers.available_states(principal=call.principal))


@endpoint("availabilitynpanxx")
def availability_npanxx(call: Call) -> Response:
    found = numbers.available_npanxx(principal=call.principal, state=call.require("state"))
    return ok(data=[{"NPANXX": n["npanxx"], "NPA": n["npa"], "RateCenter": n["rateCenter"],
                     "available": str(n["count"])} for n in found])


@endpoint("searchdid")
def search_did(call: Call) -> Response:
    full = call.get("NPANXXYYYY")
    if full is not None:
        return ok(DIDs=[_tn(i) for i in numbers.lookup_available(principal=call.principal, number=full)
                        if i["category"] == rules.LANDLINE])
    state = call.require("state")
    rules.parse_state(state)
    npanxx = call.get("NPANXX")
    if npanxx is not None:
        rules.parse_npanxx(npanxx, field="NPANXX")
    try:
        criteria = numbers.resolve_criteria(tenant=call.principal.tenant_id, category=rules.LANDLINE,
                                            state=state, npanxx=npanxx, city=call.get("city"))
    except NumberUnavailableError:  # an NPANXX not stocked in that state: no numbers, not an error
        return ok(DIDs=[])
    return ok(DIDs=[_tn(i) for i in numbers.search(principal=call.principal, criteria=criteria,
                                                    limit=SEARCH_LIMIT)])


@endpoint("searchtfn")
def search_tfn(call: Call) -> Response:
    criteria = numbers.resolve_criteria(tenant=call.principal.tenant_id, category=rules.TOLLFREE,
                                        tfn_prefix=call.require("tfn_prefix"))
    return ok(TFNs=[_tn(i) for i in numbers.search(principal=call.principal, criteria=criteria,
                                                    limit=SEARCH_LIMIT)])


def _criteria(call: Call) -> rules.Criteria:
    return numbers.resolve_criteria(
        tenant=call.principal.tenant_id, category=call.require("category"), state=call.get("state"),
        npanxx=call.get("npanxx"), city=call.get("city"), tfn_prefix=call.get("tfn_prefix"))


def _reserved(result: Mapping[str, Any]) -> Response:
    # The seed shows TNs as a list; each reserved number is one element.
    return ok(reserveId=str(result["reserveId"]), TNs=result["numbers"], expiresAt=result["expiresAt"])


@endpoint("reserve", idempotent=True)
def reserve(call: Call) -> Response:
    category = rules.parse_category(call.require("category"))
    wanted = rules.parse_numbers(call.require("number"))
    for given, check, key in (("state", rules.parse_state, "state"), ("npanxx", rules.parse_npanxx, "npanxx"),
                              ("tfn_prefix", rules.parse_tfn_prefix, "tfnPrefix")):
        if call.get(given) is not None:
            check(call.get(given))
    for number in wanted:
        is_tollfree = number[:3] in rules.TOLLFREE_PREFIXES
        if is_tollfree != (category == rules.TOLLFREE):
            raise InvalidParameter("number")
        if call.get("npanxx") and not number.startswith(call.get("npanxx") or ""):
            raise InvalidParameter("number")
        if call.get("tfn_prefix") and not number.startswith(call.get("tfn_prefix") or ""):
            raise InvalidParameter("number")
    return _reserved(numbers.reserve_numbers(principal=call.principal, customer=call.customer, numbers=wanted,
                                             state=rules.parse_state(call.get("state")) if call.get("state")
                                             else None))


@endpoint("bulkreserve", idempotent=True)
def bulk_reserve(call: Call) -> Response:
    quantity = rules.parse_quantity(call.require("quantity"))
    return _reserved(numbers.bulk_reserve(principal=call.principal, customer=call.customer,
                                          criteria=_criteria(call), quantity=quantity))


@endpoint("remove_reserved")
def remove_reserved(call: Call) -> Response:
    reserve_id = call.require("reserveId")
    listed = call.get("number")
    wanted = rules.parse_numbers(listed) if listed is not None else None
    result = numbers.remove_reserved(principal=call.principal, customer=call.customer, reserve_id=reserve_id,
                                     numbers=wanted)
    return ok(**{"Removed TNs": result["removed"], "TNs not available": result["not_available"]})
