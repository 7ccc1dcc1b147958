"""Number rules: inventory states, search criteria and carts (inventory), porting (porting), trunks (trunks)."""
