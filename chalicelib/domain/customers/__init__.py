"""Customer rules: the account record (accounts, account_input) and what a customer has (items, item_input)."""
