"""Call rules: CDR row formats and validation, rate decks, the cost formula, figures (cdrs)."""
