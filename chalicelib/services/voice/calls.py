"""Voice calls: create (queued to call control), read, list, update the verbs
of a live call, hang up; and inbound calls simulated to a DDI."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.voice import accounts
from chalicelib.services.voice.common import CALL_KIND, Flow, child_or_404, load_flow, oid
from chalicelib.store import queues
from chalicelib.store.voice import calls as call_store, children as child_store

QUEUE = "voice_calls"


def _resolve(principal: Principal, flow: Flow, request: dict[str, Any]) -> None:
    """Every device, extension and hook the call names must be the account's;
    an extension target is resolved to its device (kept beside it)."""
    by_extension = {d.get("extension"): ref for ref, d in flow.devices.items() if d.get("extension")}
    for pointer, target in rules.targets_in(request):
        if "device" in target and target["device"]["id"] not in flow.devices:
            raise ValidationError(f"{pointer}/device/id: '{target['device']['id']}' is not a device of this account",
                                  field=f"{pointer}/device/id")
        if "extension" in target:
            extension = target["extension"]["extension"]
            if extension not in by_extension:
                raise ValidationError(f"{pointer}/extension/extension: no device of this account has extension "
                                      f"'{extension}'", field=f"{pointer}/extension/extension")
            target["extension"]["device"] = by_extension[extension]
    for pointer, redirect in rules.redirects_in(request.get("verbs", [])):
        if "device" in redirect and redirect["device"] not in flow.devices:
            raise ValidationError(f"{pointer}/device: '{redirect['device']}' is not a device of this account",
                                  field=f"{pointer}/device")
        if "hook" in redirect and redirect["hook"] not in flow.flow_hooks:
            raise ValidationError(f"{pointer}/hook: '{redirect['hook']}' is not a flow.generic hook of this account",
                                  field=f"{pointer}/hook")


def _check_caller_ids(flow: Flow, request: Mapping[str, Any]) -> None:
    """A call presents only the account's own active numbers (as Twilio allows only
    its numbers and verified caller ids): the call's callerId and each dial's."""
    owned = {d["name"] for d in flow.ddis.values()}
    for pointer, number in rules.caller_ids_in(request):
        if number.lstrip("+") not in owned:
            raise ValidationError(f"{pointer}: '{number}' is not an active DDI of this account; a call presents "
                                  "one of the account's numbers (GET /account/{id}/ddi)", field=pointer)


def _trunk_of(flow: Flow, target: Mapping[str, Any]) -> str | None:
    ref = (target.get("device") or {}).get("id") or (target.get("extension") or {}).get("device")
    device = flow.devices.get(ref or "")
    if device and device["type"] == rules.SIP_GATEWAY:
        return str(device["sipGateway"]["trunks"][0])
    return None


def _describe(target: Mapping[str, Any]) -> str:
    (kind, config), = ((k, v) for k, v in target.items() if k in ("device", "sipUri", "phoneNumber", "extension"))
    if kind == "phoneNumber":
        return str(config["number"])
    if kind == "sipUri":
        return str(config["uri"])
    if kind == "extension":
        return str(config.get("overrideTo") or config["extension"])
    return str(config["id"])


def create_call(*, principal: Principal, account: str, body: Any) -> dict[str, Any]:
    """A new outbound call, ``queued``; call control picks it up from the queue."""
    rules.require(principal, rules.CALLS)
    request = rules.call_input(body)
    customer = accounts.profile(principal=principal, customer=accounts.get_account(principal=principal,
                                                                                    account=account))
    flow = load_flow(principal, customer)
    _resolve(principal, flow, request)
    _check_caller_ids(flow, request)
    # The default is the mbn as it is now, not as the account item last recorded it.
    mbn = accounts.main_number(principal=principal, customer=customer, ddis=list(flow.ddis.values()))
    caller = request["callerId"] or (f"+{mbn}" if mbn else None)
    if caller is None:
        raise ValidationError("/callerId: is required, the account has no main billing number", field="/callerId")
    fields = {"customerId": customer["id"], "direction": "outbound", "state": "queued", "callerId": caller,
              "tag": request["tag"], "target": request["target"], "verbs": request["verbs"],
              "to": _describe(request["target"]), "trunkRef": _trunk_of(flow, request["target"]),
              "controlVersion": 0, "verbsRun": [], "digits": [],
              "history": [{"event": "call.queued", "state": "queued", "at": _now()}]}
    return _queue(principal, fields)


def _now() -> str:
    from chalicelib import clock

    return clock.now_iso()


def _queue(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    record = child_store.create_child(child_store.CALL, principal.tenant_id,
                                      {k: v for k, v in fields.items() if v is not None})
    audit.touch("call", record["id"])
    try:
        queues.publish(QUEUE, {"tenant": principal.tenant_id, "call": record["id"]})
    except Exception:
        # Never a call that nobody will run: it ends failed, and the request fails.
        call_store.set_call(principal.tenant_id, record["id"], {"state": "failed", "cause": "not-queued"})
        raise
    return record


def get_call(*, principal: Principal, account: str, call: str) -> dict[str, Any]:
    rules.require(principal, rules.READ)
    customer = accounts.get_account(principal=principal, account=account)
    record = child_or_404(principal, child_store.CALL, customer, CALL_KIND, call, "call")
    audit.touch("call", record["id"])
    return record


def list_calls(*, principal: Principal, account: str, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Calls in creation order, ``after`` a call id (the last of the previous page)."""
    rules.require(principal, rules.READ)
    customer = accounts.get_account(principal=principal, account=account)
    after_id = 0
    if after:
        after_id = rules.parse_opaque_id(principal.tenant_id, CALL_KIND, after, uuid=True) or 0
        if not after_id:
            raise ValidationError("after: not a call id", field="after")
    return child_store.children(child_store.CALL, principal.tenant_id, customer["id"], after=after_id, limit=limit)


def update_call(*, principal: Principal, account: str, call: str, body: Any) -> None:
    """Replace the verbs still to run of a live call (it runs them from the next verb on)."""
    rules.require(principal, rules.CALLS)
    verbs = rules.update_input(body)
    customer = accounts.get_account(principal=principal, account=account)
    record = child_or_404(principal, child_store.CALL, customer, CALL_KIND, call, "call")
    flow = load_flow(principal, customer)
    _resolve(principal, flow, {"verbs": verbs})
    _check_caller_ids(flow, {"verbs": verbs})
    call_store.control_call(principal.tenant_id, record, {"pendingVerbs": verbs})


def hangup_call(*, principal: Principal, account: str, call: str) -> None:
    rules.require(principal, rules.CALLS)
    customer = accounts.get_account(principal=principal, account=account)
    record = child_or_404(principal, child_store.CALL, customer, CALL_KIND, call, "call")
    call_store.control_call(principal.tenant_id, record, {"hangupRequested": True})


def simulate_inbound(*, principal: Principal, account: str, body: Any) -> dict[str, Any]:
    """An inbound call to one of the account's DDIs (the simulator's test endpoint):
    it runs the flow from the DDI's ROUTE_START. Only on the simulator: a real
    media server has no call to run it on."""
    from chalicelib.adapters import media
    from chalicelib.domain.errors import NotFoundError

    rules.require(principal, rules.CALLS)
    if not media.is_simulator():
        raise NotFoundError("inbound calls are simulated only with the simulator media adapter")
    if not isinstance(body, dict) or set(body) - {"ddi", "from", "tag"}:
        raise ValidationError("/: give ddi (a DDI id or its number) and from (E.164)", field="/")
    caller = rules.e164(body.get("from"), "/from")
    tag = rules.tag_input(body.get("tag"), "/tag")
    customer = accounts.get_account(principal=principal, account=account)
    flow = load_flow(principal, customer)
    wanted = str(body.get("ddi") or "").lstrip("+")
    ddi = next((d for d in flow.ddis.values() if wanted in (d["id"], d["name"], d["number"])), None)
    if ddi is None:
        raise ValidationError(f"/ddi: '{wanted}' is not an active DDI of this account", field="/ddi")
    start = next((ref for ref, d in flow.devices.items()
                  if d["type"] == rules.ROUTE_START and ddi["id"] in d["startRoute"]["ddis"]), None)
    fields = {"customerId": customer["id"], "direction": "inbound", "state": "queued", "callerId": caller,
              "tag": tag, "target": {"ddi": ddi["name"]}, "verbs": [], "to": "+" + ddi["name"],
              "ddiNumber": ddi["number"], "startDevice": start, "controlVersion": 0, "verbsRun": [], "digits": [],
              "history": [{"event": "call.queued", "state": "queued", "at": _now()}]}
    return _queue(principal, fields)


def view(principal: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
    target = dict(record.get("target") or {})
    if "extension" in target:
        target = {"extension": {k: v for k, v in target["extension"].items() if k != "device"}}
    found = {"id": oid(principal, CALL_KIND, record["id"]),
             "account": rules.opaque_id(principal.tenant_id, "ACCOUNT", record["customerId"]),
             "direction": record.get("direction", "outbound"), "state": record["state"],
             "callerId": record.get("callerId"), "to": record.get("to"), "target": target,
             "tag": record.get("tag", {"data": {}}), "verbs": record.get("verbs", []),
             "verbsRun": record.get("verbsRun", []), "digits": [d for d in record.get("digits", []) if d],
             "history": record.get("history", []), "createdAt": record["createdAt"]}
    for name in ("initiatedAt", "answeredAt", "endedAt", "duration", "cause"):
        if record.get(name) is not None:
            found[name] = record[name]
    return found


