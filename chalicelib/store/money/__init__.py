"""Where money is stored: balances and the append-only ledger (ledger), invoice records (invoices), payment state changes (payments), the sandbox payment gateway's own charges (sandbox_charges)."""
