"""Trunk groups of a customer: define, read, update, disable; the termination
trunk's connection settings as a PDF in S3."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain.numbers import trunks as rules
from chalicelib.domain.errors import ConcurrentUpdateError, NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.store import blobs
from chalicelib.store.numbers import trunks as store

UPDATE_ATTEMPTS = 5
# Where termination traffic is sent; shown in the settings PDF.
SIP_PROXY = "sip.dialtone.example"


def define_origination(*, principal: Principal, customer: Mapping[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
    principal.require_write()
    values = rules.origination_fields(params, creating=True)
    record = store.create(principal.tenant_id, {
        **values, "customerId": customer["id"], "direction": rules.ORIGINATION, "status": rules.ENABLED})
    audit.touch("trunk", record["id"])
    return record


def get_trunk(*, principal: Principal, customer: Mapping[str, Any], trunk_id: Any, direction: str,
              field: str = "tg_id") -> dict[str, Any]:
    """The customer's trunk of that direction; another customer's is not found."""
    principal.require_read()
    text = str(trunk_id or "").strip()
    record = store.get(principal.tenant_id, int(text)) if text.isdigit() else None
    if record is None or record["customerId"] != customer["id"] or record["direction"] != direction:
        raise NotFoundError(f"Invalid {field}", field=field)
    audit.touch("trunk", record["id"])
    return record


def list_trunks(*, principal: Principal, customer: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    principal.require_read()
    return store.trunks_of(principal.tenant_id, customer["id"], direction=direction)


def trunks_of(*, principal: Principal, customer: Mapping[str, Any], direction: str,
              trunk_id: Any = None) -> list[dict[str, Any]]:
    """The seed's get_trunk rule: the one trunk named by ``tg_id``, else all of them."""
    if trunk_id is not None:
        return [get_trunk(principal=principal, customer=customer, trunk_id=trunk_id, direction=direction)]
    return list_trunks(principal=principal, customer=customer, direction=direction)


def update_origination(*, principal: Principal, customer: Mapping[str, Any], trunk_id: Any,
                       params: Mapping[str, str]) -> dict[str, Any]:
    """Change only the given fields; a concurrent change is re-read and re-applied."""
    principal.require_write()
    changes = rules.origination_fields(params, creating=False)
    for _ in range(UPDATE_ATTEMPTS):
        current = get_trunk(principal=principal, customer=customer, trunk_id=trunk_id,
                            direction=rules.ORIGINATION, field="trunkid")
        if not changes:
            return current
        try:
            return store.update(principal.tenant_id, current, changes)
        except ConcurrentUpdateError:
            continue
    raise ConcurrentUpdateError("the trunk is being changed by others; try again")


def define_termination(*, principal: Principal, customer: Mapping[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
    principal.require_write()
    values = rules.termination_fields(params)
    record = store.create(principal.tenant_id, {
        **values, "customerId": customer["id"], "direction": rules.TERMINATION, "status": rules.ENABLED,
        "portsAssigned": values["ports"], "cpsAssigned": values.get("cps", 0)})
    audit.touch("trunk", record["id"])
    return record


def disable_termination(*, principal: Principal, customer: Mapping[str, Any], trunk_id: Any) -> dict[str, Any]:
    principal.require_write()
    for _ in range(UPDATE_ATTEMPTS):
        current = get_trunk(principal=principal, customer=customer, trunk_id=trunk_id, direction=rules.TERMINATION)
        if current["status"] == rules.DISABLED:
            return current
        try:
            return store.update(principal.tenant_id, current, {"status": rules.DISABLED})
        except ConcurrentUpdateError:
            continue
    raise ConcurrentUpdateError("the trunk is being changed by others; try again")


def settings_pdf_url(*, principal: Principal, customer: Mapping[str, Any], trunk: Mapping[str, Any]) -> str:
    """A presigned URL of the trunk's settings PDF, written when first asked
    for and again whenever the trunk changed (its version is in the key)."""
    key = f"trunks/{trunk['id']}/settings-v{trunk['version']}.pdf"
    if blobs.head(principal.tenant_id, key) is None:
        blobs.put(principal.tenant_id, key, settings_pdf(customer=customer, trunk=trunk),
                  content_type="application/pdf")
    return blobs.presigned_download(principal.tenant_id, key, filename=f"trunk-{trunk['id']}-settings.pdf")


def settings_pdf(*, customer: Mapping[str, Any], trunk: Mapping[str, Any]) -> bytes:
    """The connection settings of a termination trunk, one page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(False)  # one small page; plain text keeps it greppable
    pdf.set_title(f"Termination trunk {trunk['id']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 12, _latin1(f"Termination trunk {trunk['id']}: {trunk['title']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    rows = [
        ("Account", str(customer.get("accountNumber", ""))),
        ("Customer", str(customer.get("name", ""))),
        ("Your signalling IP (authorised)", trunk["ipaddress"]),
        ("SIP proxy", f"{SIP_PROXY}:5060 (UDP/TCP)"),
        ("Authentication", "by source IP address"),
        ("Concurrent calls (ports)", str(trunk["ports"])),
        ("Calls per second", str(trunk.get("cps") or "default")),
        ("Number format", "E.164 without '+' (e.g. 12065550100)"),
        ("Codecs", "G.711u, G.711a, G.729"),
        ("DTMF", "RFC 2833"),
        ("Status", "enabled" if trunk["status"] == rules.ENABLED else "disabled"),
    ]
    for label, value in rows:
        pdf.cell(80, 8, label)
        pdf.cell(0, 8, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(value: str) -> str:
    # The PDF core fonts are Latin-1: a trunk title or customer name in any
    # other script is printed with '?' for what they cannot show, never an error.
    return value.encode("latin-1", "replace").decode("latin-1")


def require_trunk_id(value: Any, field: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit():
        raise ValidationError(f"Invalid {field}", field=field)
    return int(text)
