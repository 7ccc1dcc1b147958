"""Domain records -> the carrier API's field names (seed 002): every value a
string, times as the seed writes them ("2015-01-26 11:58:02", UTC here)."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.numbers import inventory as number_rules
    from chalicelib.domain.numbers import porting as port_rules
    from chalicelib.services.numbers import orders, porting
else:
    number_rules = lazy("chalicelib.domain.numbers.inventory")
    port_rules = lazy("chalicelib.domain.numbers.porting")
    orders = lazy("chalicelib.services.numbers.orders")
    porting = lazy("chalicelib.services.numbers.porting")

CATEGORY_NAMES = {"landline": "Landline", "tollfree": "TollFree", "mixed": "Mixed"}
CENTS = Decimal("0.01")


def money(value: Any) -> str:
    """Every amount of this surface in one format, the seed's ``XX.XX``: two
    decimal places, and the further places (up to the stored five) only where
    they hold digits, so no amount is rounded ("1.50", "0.00", "0.00125")."""
    amount = Decimal(str(value))
    shown = amount.quantize(CENTS) if amount == amount.quantize(CENTS) else amount.normalize()
    return format(shown + 0, "f")  # + 0: no "-0.00"


def seed_date(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def origination_view(account_number: str, trunk: Mapping[str, Any]) -> dict[str, str]:
    return {
        "id": str(trunk["id"]), "accountno": account_number, "title": trunk["title"],
        "primaryIP": trunk["primaryIP"], "primaryPort": str(trunk.get("primaryPort", "")),
        "prefix_1": trunk.get("primaryPrefix", ""), "secondaryIP": trunk.get("secondaryIP", ""),
        "secondaryPort": str(trunk.get("secondaryPort", "")), "prefix_2": trunk.get("secondaryPrefix", ""),
        "date": seed_date(trunk["createdAt"]), "billingType": trunk["billingType"],
        "req_sessions": str(trunk.get("sessions", "")), "alloc_sessions": str(trunk.get("sessions", 0)),
        "mou": trunk.get("mou", ""), "call_forwarding": trunk.get("callForwarding", ""), "status": trunk["status"],
    }


def termination_view(account_number: str, trunk: Mapping[str, Any], *, config_url: str) -> dict[str, str]:
    return {
        "id": str(trunk["id"]), "accountno": account_number, "title": trunk["title"],
        "ipaddress": trunk["ipaddress"], "ports": str(trunk["ports"]), "cps": str(trunk.get("cps", "")),
        "ports_assigned": str(trunk.get("portsAssigned", 0)), "cps_assigned": str(trunk.get("cpsAssigned", 0)),
        # An absolute, presigned URL of the PDF in S3 (it expires; ask again for a fresh one).
        "config": config_url,
        "status": trunk["status"],
    }


def owned_number_view(item: Mapping[str, Any], trunk: Mapping[str, Any]) -> dict[str, str]:
    """A number of getnumbers, with the origination trunk it routes to ({} if none)."""
    return {
        "didnumber": item["number"], "trunkGroup": trunk.get("primaryIP", ""),
        "prefix1": trunk.get("primaryPrefix", ""), "trunkGroup2": trunk.get("secondaryIP", ""),
        "prefix2": trunk.get("secondaryPrefix", ""), "didRate": money(item["monthlyPrice"]),
        "didType": trunk.get("billingType", ""), "orderType": item.get("orderType", "New"),
        "status": number_rules.STATUS_CODES[item["status"]], "cnam": item.get("cnam", ""),
        "trunkId": str(item.get("trunkId", "")), "orderno": str(item.get("orderId", "")),
        "category": item["category"],
    }


def order_view(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "orderno": str(order["id"]), "accountno": order["accountNumber"], "date": seed_date(order["createdAt"]),
        "amount": money(order["amount"]), "per_order_cost": money(order["perOrderCost"]),
        "taxes": money(order["taxes"]), "other_charges": money(order["otherCharges"]),
        "discount": money(order["discount"]),
        "tg_id": str(order.get("trunkId") or ""), "orderType": order["orderType"],
        "didCategory": CATEGORY_NAMES.get(order["category"], order["category"]), "didType": order["didType"],
        "sessions": str(order.get("sessions", 0)), "status": orders.STATUS_CODES[order["status"]],
        "state": order["status"], "numbers": list(order["numbers"]),
        "history": [{"status": h["status"], "date": seed_date(h["at"]), **({"note": h["note"]} if "note" in h else {})}
                    for h in order.get("history", [])],
    }


def port_order_view(order: Mapping[str, Any], *, loa_url: str, carrier_doc_url: str) -> dict[str, Any]:
    return {
        "orderno": str(order["id"]), "accountno": order["accountNumber"],
        "date": seed_date(order["createdAt"]), "amount": "0.00", "per_order_cost": "0.00",
        "taxes": "0.00", "other_charges": "0.00", "discount": "0.00", "tg_id": "", "orderType": "Portin",
        "didCategory": "TollFree" if order["category"] == number_rules.TOLLFREE else "Landline",
        "didType": "", "sessions": "0", "status": port_rules.STATUS_CODES[order["status"]], "state": order["status"],
        "requestedFocDate": order["requestedFocDate"], "actualFocDate": order.get("actualFocDate", ""),
        "billingNumber": order.get("billingNumber", ""), "loaAuthorizingPerson": order["loaAuthorizingPerson"],
        "numbers": list(order["numbers"]), "subscriberType": order["subscriberType"],
        **{k: order.get(k, "") for k in porting.SUBSCRIBER_FIELDS if k not in ("wirelessAccountNumber", "wirelessPin",
                                                                                  "billingNumber")},
        "lastModifiedDate": order["updatedAt"][:19] + "Z", "lastModifiedBy": order.get("lastModifiedBy", "System"),
        "immediately": False, "triggered": False, "loa": loa_url, "carrier_doc": carrier_doc_url,
        "history": order.get("history", []),
    }
