"""Carrier API, termination trunks: define, read (with the settings PDF), disable."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.carrier import views
from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.numbers import trunks as rules
    from chalicelib.services.numbers import trunks
else:
    rules = lazy("chalicelib.domain.numbers.trunks")
    trunks = lazy("chalicelib.services.numbers.trunks")


@endpoint("defineTrunk_termination", idempotent=True)
def define_trunk_termination(call: Call) -> Response:
    trunk = trunks.define_termination(principal=call.principal, customer=call.customer, params=call.params)
    return ok(success="Trunk group added successfully.", tg_id=str(trunk["id"]))


@endpoint("get_trunk_termination")
def get_trunk_termination(call: Call) -> Response:
    found = trunks.trunks_of(principal=call.principal, customer=call.customer,
                             direction=rules.TERMINATION, trunk_id=call.get("tg_id"))
    account = call.customer["accountNumber"]
    return ok(data=[views.termination_view(account, trunk, config_url=trunks.settings_pdf_url(
        principal=call.principal, customer=call.customer, trunk=trunk)) for trunk in found])


@endpoint("disable_trunk_termination")
def disable_trunk_termination(call: Call) -> Response:
    trunks.disable_termination(principal=call.principal, customer=call.customer, trunk_id=call.require("tg_id"))
    # The seed's answer names this field "Removed TNs" (sic).
    return ok(**{"Removed TNs": "Diabled Successfully"})
