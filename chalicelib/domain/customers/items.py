"""Things a customer has, besides numbers: services (billed items), features
(add-ons) and notes. Their statuses, what "active" means, and their actions.
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain.customers import accounts as customers
from chalicelib.domain.common.actions import Action, date_parameter, new_pin, text_parameter
from chalicelib.domain.errors import ActionFailedError

# Services: ordered, approved, then billed until cancelled.
SERVICE_PENDING = 1
SERVICE_ACTIVE = 2
SERVICE_CANCELLED = 3
SERVICE_STATUS_NAMES = {SERVICE_PENDING: "Pending Approval", SERVICE_ACTIVE: "Active", SERVICE_CANCELLED: "Cancelled"}

# Features: active until dropped.
FEATURE_ACTIVE = 1
FEATURE_DROPPED = 2
FEATURE_STATUS_NAMES = {FEATURE_ACTIVE: "Active", FEATURE_DROPPED: "Dropped"}


def service_is_active(record: Mapping[str, Any]) -> bool:
    return record.get("status") == SERVICE_ACTIVE


def feature_is_active(record: Mapping[str, Any]) -> bool:
    return record.get("status") == FEATURE_ACTIVE


SERVICE_ACTIONS = {
    "approve": Action(
        "approve", lambda r, p: {"status": SERVICE_ACTIVE, "dateApproved": date_parameter(p, "dateApproved",
                                                                                           default_today=True)},
        valid_states=frozenset({SERVICE_PENDING}), optional=("dateApproved",),
        summary="Approve a pending service; billing starts. Optional dateApproved (default today)."),
    "unapprove": Action(
        "unapprove", lambda r, p: {"status": SERVICE_PENDING, "dateApproved": None},
        valid_states=frozenset({SERVICE_ACTIVE}), summary="Return an active service to pending approval."),
    "cancel": Action(
        "cancel", lambda r, p: {"status": SERVICE_CANCELLED,
                                "dateCancelled": date_parameter(p, "dateCancelled", default_today=True),
                                "statusReason": text_parameter(p, "statusReason")},
        valid_states=frozenset({SERVICE_PENDING, SERVICE_ACTIVE}), optional=("dateCancelled", "statusReason"),
        summary="Cancel a pending or active service."),
    "reinstate": Action(
        "reinstate", lambda r, p: {"status": SERVICE_ACTIVE, "dateCancelled": None, "statusReason": None},
        valid_states=frozenset({SERVICE_CANCELLED}), summary="Reactivate a cancelled service."),
}

FEATURE_ACTIONS = {
    "drop": Action(
        "drop", lambda r, p: {"status": FEATURE_DROPPED, "dateDrop": date_parameter(p, "dateDrop"),
                              "statusReason": text_parameter(p, "statusReason")},
        valid_states=frozenset({FEATURE_ACTIVE}), required=("dateDrop",), optional=("statusReason",),
        summary="Drop an active feature from dateDrop."),
    "reinstate": Action(
        "reinstate", lambda r, p: {"status": FEATURE_ACTIVE, "dateDrop": None, "statusReason": None},
        valid_states=frozenset({FEATURE_DROPPED}), summary="Reactivate a dropped feature."),
}


def _drop_customer(record: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    status = params.get("status", customers.STATUS_NAMES[customers.STATUS_EX_CUSTOMER])
    by_name = {name.lower(): code for code, name in customers.STATUS_NAMES.items()}
    code = status if isinstance(status, int) and not isinstance(status, bool) else by_name.get(str(status).lower())
    if code not in customers.STATUS_NAMES or code in customers.ACTIVE_STATUSES:
        inactive = ", ".join(n for c, n in customers.STATUS_NAMES.items() if c not in customers.ACTIVE_STATUSES)
        raise ActionFailedError(f"status must be an inactive status ({inactive})", field="status")
    return {"status": code, "dateDrop": date_parameter(params, "dateDrop"),
            "statusReason": text_parameter(params, "statusReason")}


CUSTOMER_ACTIONS = {
    "drop": Action(
        "drop", _drop_customer,
        valid_states=frozenset({customers.STATUS_CUSTOMER, customers.STATUS_PROSPECT, customers.STATUS_SUSPENDED}),
        required=("dateDrop",), optional=("status", "statusReason"), needs_full_access=True,
        summary="Make the customer an ex-customer (or another inactive status) from dateDrop."),
    "reinstate": Action(
        "reinstate", lambda r, p: {"status": customers.STATUS_CUSTOMER, "dateDrop": None,
                                   "statusReason": text_parameter(p, "statusReason")},
        valid_states=frozenset({customers.STATUS_EX_CUSTOMER, customers.STATUS_SUSPENDED}),
        optional=("statusReason",), needs_full_access=True,
        summary="Make a dropped or suspended customer a customer again."),
    "generatePIN": Action(
        "generatePIN", lambda r, p: {"pin": new_pin()},
        summary="Replace the customer's telephone PIN with a new random 6-digit one (safe to retry)."),
}
