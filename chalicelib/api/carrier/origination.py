"""Carrier API, origination: availability, search, reservations, my numbers."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalice import Response

from chalicelib.api.carrier import views
from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.api.carrier.errors import InvalidParameter
from chalicelib.domain.errors import NumberUnavailableError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.numbers import inventory as rules
    from chalicelib.domain.numbers import trunks as trunk_rules
    from chalicelib.services.numbers import inventory, trunks
    from chalicelib.services.numbers import reservations
else:
    rules = lazy("chalicelib.domain.numbers.inventory")
    trunk_rules = lazy("chalicelib.domain.numbers.trunks")
    inventory = lazy("chalicelib.services.numbers.inventory")
    reservations = lazy("chalicelib.services.numbers.reservations")
    trunks = lazy("chalicelib.services.numbers.trunks")

SEARCH_LIMIT = 100


def _tn(item: Mapping[str, Any]) -> dict[str, str]:
    return {"TN": item["number"], "statusid": "0"}


@endpoint("availabilitystate")
def availability_state(call: Call) -> Response:
    return ok(data=inventory.available_states(principal=call.principal))


@endpoint("availabilitynpanxx")
def availability_npanxx(call: Call) -> Response:
    found = inventory.available_npanxx(principal=call.principal, state=call.require("state"))
    return ok(data=[{"NPANXX": n["npanxx"], "NPA": n["npa"], "RateCenter": n["rateCenter"],
                     "available": str(n["count"])} for n in found])


@endpoint("searchdid")
def search_did(call: Call) -> Response:
    full = call.get("NPANXXYYYY")
    if full is not None:
        return ok(DIDs=[_tn(i) for i in inventory.lookup_available(principal=call.principal, number=full)
                        if i["category"] == rules.LANDLINE])
    state = call.require("state")
    rules.parse_state(state)
    npanxx = call.get("NPANXX")
    if npanxx is not None:
        rules.parse_npanxx(npanxx, field="NPANXX")
    try:
        criteria = inventory.resolve_criteria(tenant=call.principal.tenant_id, category=rules.LANDLINE,
                                            state=state, npanxx=npanxx, city=call.get("city"))
    except NumberUnavailableError:  # an NPANXX not stocked in that state: no numbers, not an error
        return ok(DIDs=[])
    return ok(DIDs=[_tn(i) for i in inventory.search(principal=call.principal, criteria=criteria,
                                                    limit=SEARCH_LIMIT)])


@endpoint("searchtfn")
def search_tfn(call: Call) -> Response:
    criteria = inventory.resolve_criteria(tenant=call.principal.tenant_id, category=rules.TOLLFREE,
                                        tfn_prefix=call.require("tfn_prefix"))
    return ok(TFNs=[_tn(i) for i in inventory.search(principal=call.principal, criteria=criteria,
                                                    limit=SEARCH_LIMIT)])


def _criteria(call: Call) -> rules.Criteria:
    return inventory.resolve_criteria(
        tenant=call.principal.tenant_id, category=call.require("category"), state=call.get("state"),
        npanxx=call.get("npanxx"), city=call.get("city"), tfn_prefix=call.get("tfn_prefix"))


def _reserved(result: Mapping[str, Any]) -> Response:
    # The seed shows TNs as a list; each reserved number is one element.
    return ok(reserveId=str(result["reserveId"]), TNs=result["numbers"], expiresAt=result["expiresAt"])


@endpoint("reserve", idempotent=True)
def reserve(call: Call) -> Response:
    category = rules.parse_category(call.require("category"))
    wanted = rules.parse_numbers(call.require("number"))
    for given, check in (("state", rules.parse_state), ("npanxx", rules.parse_npanxx),
                         ("tfn_prefix", rules.parse_tfn_prefix)):
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
    return _reserved(reservations.reserve_numbers(principal=call.principal, customer=call.customer, numbers=wanted,
                                             state=rules.parse_state(call.get("state")) if call.get("state")
                                             else None))


@endpoint("bulkreserve", idempotent=True)
def bulk_reserve(call: Call) -> Response:
    quantity = rules.parse_quantity(call.require("quantity"))
    return _reserved(reservations.bulk_reserve(principal=call.principal, customer=call.customer,
                                          criteria=_criteria(call), quantity=quantity))


@endpoint("remove_reserved")
def remove_reserved(call: Call) -> Response:
    reserve_id = call.require("reserveId")
    listed = call.get("number")
    wanted = rules.parse_numbers(listed) if listed is not None else None
    result = reservations.remove_reserved(principal=call.principal, customer=call.customer, reserve_id=reserve_id,
                                     numbers=wanted)
    return ok(**{"Removed TNs": result["removed"], "TNs not available": result["not_available"]})


# Origination trunk groups -------------------------------------------------------

@endpoint("defineTrunk", idempotent=True)
def define_trunk(call: Call) -> Response:
    trunk = trunks.define_origination(principal=call.principal, customer=call.customer, params=call.params)
    return ok(success="Trunk group added successfully.", tg_id=str(trunk["id"]))


@endpoint("get_trunk")
def get_trunk(call: Call) -> Response:
    found = trunks.trunks_of(principal=call.principal, customer=call.customer,
                             direction=trunk_rules.ORIGINATION, trunk_id=call.get("tg_id"))
    return ok(data=[views.origination_view(call.customer["accountNumber"], t) for t in found])


@endpoint("update_trunk")
def update_trunk(call: Call) -> Response:
    trunk = trunks.update_origination(principal=call.principal, customer=call.customer,
                                      trunk_id=call.require("trunkid"), params=call.params)
    return ok(trunkid=str(trunk["id"]), success="Trunk successfully Updated.")


# My numbers ----------------------------------------------------------------------

def _int_param(call: Call, name: str) -> int | None:
    text = call.get(name)
    if text is None:
        return None
    if not text.strip().isdigit():
        raise InvalidParameter(name)
    return int(text)


def _status_param(call: Call) -> str | None:
    code = call.get("status")
    if code is None:
        return None
    if code.strip() not in rules.STATUS_BY_CODE:
        raise InvalidParameter("status")
    return rules.STATUS_BY_CODE[code.strip()]


@endpoint("getnumbers")
def get_numbers(call: Call) -> Response:
    category = rules.parse_category(call.get("category")) if call.get("category") is not None else None
    found = inventory.owned_numbers(principal=call.principal, customer=call.customer, category=category,
                                  status=_status_param(call), trunk_id=_int_param(call, "trunkId"),
                                  order_id=_int_param(call, "orderno"))
    trunk_ids = {i["trunkId"] for i in found if i.get("trunkId")}
    by_id = {t["id"]: t for t in trunks.list_trunks(principal=call.principal, customer=call.customer,
                                                    direction=trunk_rules.ORIGINATION)} if trunk_ids else {}
    data = [views.owned_number_view(item, by_id.get(item.get("trunkId"), {})) for item in found]
    return ok(data=data)


@endpoint("updatenumber")
def update_number(call: Call) -> Response:
    wanted = rules.parse_numbers(call.require("number"), limit=inventory.MAX_UPDATE)
    trunk_id = None
    if call.get("trunkId") is not None:
        trunk_id = trunks.get_trunk(principal=call.principal, customer=call.customer, trunk_id=call.get("trunkId"),
                                    direction=trunk_rules.ORIGINATION, field="trunkId")["id"]
    cnam = call.get("cnam")
    if cnam is not None:
        cnam = cnam.strip()
        if not (1 <= len(cnam) <= 15 and all(c.isalnum() or c in " ._-,&" for c in cnam)):
            raise InvalidParameter("cnam")
    inventory.update_numbers(principal=call.principal, customer=call.customer, numbers=wanted,
                           status=_status_param(call), trunk_id=trunk_id, cnam=cnam)
    # The seed's success text for this call.
    return ok(success="Trunk successfully Updated.")
