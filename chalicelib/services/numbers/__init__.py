"""Numbers and routing: the inventory and carts (inventory), the sale of one number to a customer (sales), orders and their charge (orders, order_charges), porting in (porting), trunks (trunks)."""
