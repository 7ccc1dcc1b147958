"""Carrier API, termination trunks: define, read (with the settings PDF), disable."""
from __future__ import annotations

from typing import Any, Mapping

from chalice import Response

from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.lazy import lazy

rules = lazy("chalicelib.domain.trunks")
trunks = lazy("chalicelib.services.numbers.trunks")


def termination_view(call: Call, trunk: Mapping[str, Any]) -> dict[str, str]:
    return {
        "id": str(trunk["id"]), "accountno": call.customer["accountNumber"], "title": trunk["title"],
        "ipaddress": trunk["ipaddress"], "ports": str(trunk["ports"]), "cps": str(trunk.get("cps", "")),
        "ports_assigned": str(trunk.get("portsAssigned", 0)), "cps_assigned": str(trunk.get("cpsAssigned", 0)),
        # An absolute, presigned URL of the PDF in S3 (it expires; ask again for a fresh one).
        "config": trunks.settings_pdf_url(principal=call.principal, customer=call.customer, trunk=trunk),
        "status": trunk["status"],
    }


@endpoint("defineTrunk_termination", idempotent=True)
def define_trunk_termination(call: Call) -> Response:
    trunk = trunks.define_termination(principal=call.principal, customer=call.customer, params=call.params)
    return ok(success="Trunk group added successfully.", tg_id=str(trunk["id"]))


@endpoint("get_trunk_termination")
def get_trunk_termination(call: Call) -> Response:
    found = trunks.trunks_of(principal=call.principal, customer=call.customer,
                             direction=rules.TERMINATION, trunk_id=call.get("tg_id"))
    return ok(data=[termination_view(call, t) for t in found])


@endpoint("disable_trunk_termination")
def disable_trunk_termination(call: Call) -> Response:
    trunks.disable_termination(principal=call.principal, customer=call.customer, trunk_id=call.require("tg_id"))
    # The seed's answer names this field "Removed TNs" (sic).
    return ok(**{"Removed TNs": "Diabled Successfully"})
