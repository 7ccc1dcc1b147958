"""The data a test starts from: tenants, customers with money, owned numbers, CDR worlds and their expected figures, the authorisation matrix's callers."""
