"""Use cases: one module per capability, keyword-only functions, no HTTP."""
