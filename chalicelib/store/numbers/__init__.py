"""Where numbers are stored: inventory and availability counters (inventory), carts (carts), orders (orders), port orders and the portability table (porting), trunks (trunks)."""
