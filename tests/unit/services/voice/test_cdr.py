"""A finished voice call's CDR row (services/voice/cdr.py): the Dialtone CSV
fields the pipeline reads (docs/cdrs.md), numbers in E.164 digits as a switch writes them."""
from __future__ import annotations

import csv
import io

from chalicelib.domain.calls import cdrs
from chalicelib.services.voice import cdr

CUSTOMER = {"id": 7, "accountNumber": "pizza1"}
BASE = {"id": 41, "customerId": 7, "callerId": "+441234567890", "createdAt": "2026-06-01T10:00:00.000000Z",
        "initiatedAt": "2026-06-01T10:00:00.000000Z", "answeredAt": "2026-06-01T10:00:02.000000Z",
        "endedAt": "2026-06-01T10:00:25.000000Z", "duration": 23, "state": "completed"}


def _parsed(row: list[str]) -> dict[str, str]:
    text = ",".join(cdrs.HEADER) + "\n" + _csv(row)
    return next(csv.DictReader(io.StringIO(text)))


def _csv(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


def test_an_inbound_call_names_its_ddi_in_e164_digits() -> None:
    # The DDI's inventory number is 10 digits; rate decks are keyed on E.164 prefixes (1206...).
    call = {**BASE, "direction": "inbound", "to": "+12065550100", "ddiNumber": "2065550100"}
    row = _parsed(cdr.row(tenant="T1", call=call, customer=CUSTOMER, trunk_id=None))
    assert row["direction"] == "inbound" and row["to"] == "12065550100" and row["trunk_id"] == ""
    assert row["from"] == "441234567890" and row["account"] == "pizza1"
    assert (row["billsec"], row["disposition"], row["answer"]) == ("23", "ANSWERED", BASE["answeredAt"])
    assert row["call_id"].startswith("voice-")


def test_an_outbound_call_is_on_its_trunk_and_an_unanswered_one_has_no_answer_time() -> None:
    call = {**BASE, "direction": "outbound", "to": "+441234567893", "state": "busy", "duration": 0}
    row = _parsed(cdr.row(tenant="T1", call=call, customer=CUSTOMER, trunk_id=12))
    assert (row["to"], row["trunk_id"], row["disposition"], row["answer"], row["billsec"]) == (
        "441234567893", "12", "BUSY", "", "0")
