"""The services' tables, by name, for code that reads them with raw SQL.

The auditor, the lab, the benchmarks and the reliability suite read the
services' databases directly, never through the services' models. These are
the names the services' migrations give their tables; a renamed table is
changed here once.
"""

# The write side: each service's current-state tables.
CUSTOMER_TABLE = "customers_customer"
ORDER_TABLE = "orders_order"
ORDER_LINE_TABLE = "orders_orderline"
# The order service's copy of customers, kept from events (approaches 3 to 5).
REPLICA_TABLE = "orders_customer_replica"

# The events library's tables, in every database that produces or consumes.
EVENT_STORE_TABLE = "event_store"
OUTBOX_TABLE = "event_outbox"
PROCESSED_EVENT_TABLE = "event_processed"
AGGREGATE_CURSOR_TABLE = "event_aggregate_cursor"
HELD_EVENT_TABLE = "event_held"

# The read models of approach 5, in the read databases.
SUMMARY_TABLE = "read_customer_summary"
SUMMARY_ORDER_TABLE = "read_customer_summary_order"
ORDER_VIEW_TABLE = "read_order_view"
ORDER_VIEW_CUSTOMER_TABLE = "read_order_view_customer"
