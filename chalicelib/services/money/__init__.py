"""Money: balances and the ledger (ledger), statements and fund moves (statements), card payments (payments), monthly invoices and their PDF (invoices, invoice_pdf)."""
