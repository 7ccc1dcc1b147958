"""An invoice as a PDF (fpdf2, core fonts, no images).

Streams are left uncompressed: an invoice is a few KB either way, and the
amounts stay greppable in the file (tests and support staff read them). The
creation date is the period's end, so the same invoice renders to the same
bytes on a re-run.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from chalicelib.domain.money.invoices import Invoice


def _text(value: str) -> str:
    # The PDF core fonts are Latin-1; anything else becomes '?', never an error.
    return value.encode("latin-1", "replace").decode("latin-1")


def _amount(value: Decimal) -> str:
    return format(value, "f")


def render(invoice: Invoice) -> bytes:
    from fpdf import FPDF  # imported on first use: only the invoices job pays for it
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_creation_date(datetime.fromisoformat(invoice.last_day).replace(tzinfo=timezone.utc))
    pdf.set_title(_text(f"Invoice {invoice.account_number} {invoice.month}"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _text(invoice.tenant_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _text(f"Invoice for {invoice.customer_name} (account {invoice.account_number})"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, f"Period {invoice.first_day} to {invoice.last_day}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    def row(day: str, text: str, amount: str, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(28, 6, day)
        pdf.cell(117, 6, _text(text))
        pdf.cell(35, 6, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    row("Date", "Description", "Amount", bold=True)
    row(invoice.first_day, "Opening balance", _amount(invoice.opening), bold=True)
    for line in invoice.lines:
        row(line.date, line.description, _amount(line.amount))
    row(invoice.last_day, "Closing balance", _amount(invoice.closing), bold=True)
    pdf.ln(4)
    s = invoice.statement
    pdf.set_font("Helvetica", "", 9)
    for label, value in (("Payments", s.payments), ("Adjustments", s.adjustments),
                         ("Call charges", s.call_charges), ("Other charges", s.other_charges)):
        pdf.cell(0, 5, f"{label}: {_amount(value)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.detail == "categories":
        pdf.cell(0, 5, "Movements are summarised by category; the full list is in the financial summary.",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
