"""docs/billing-api.md and docs/money.md say what the code does (issue 14:
they contradicted each other on invoices)."""
import re
from pathlib import Path

from chalicelib.api.platform import views

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _row(name):
    """The resource's row of the Resources table (the one with its paths)."""
    lines = (DOCS / "billing-api.md").read_text().splitlines()
    return next(line for line in lines if line.startswith(f"| {name} | `/{name}`"))


def test_the_documented_invoice_and_number_fields_are_the_views():
    invoice = {"id": 1, "customerId": 2, "month": "2025-01"}
    assert set(views.invoice_view(invoice)) <= set(re.findall(r"`(\w+)`", _row("invoices")))
    number = {"id": 1}
    assert set(views.number_view(number)) <= set(re.findall(r"`(\w+)`", _row("numbers")))


def test_both_documents_say_the_billing_api_serves_invoices_and_their_pdf():
    billing, money = (DOCS / "billing-api.md").read_text(), (DOCS / "money.md").read_text()
    for text in (billing, money):
        flat = " ".join(text.split())
        assert "not served yet" not in flat and "get_invoices` only" not in flat
        assert "GET /invoices/{id}` with `Accept: application/pdf`" in flat
    assert "303" in billing and "303" in money
