"""Money rules: Decimal amounts with five places and the one money grammar (amounts), the ledger's categories and statements (ledger), card checks (cards), invoices (invoices)."""
