"""Approach 1 only: the order service's direct view of the customer table.

Installed in the order service only when both services share one database.
Its model mirrors the customer service's table, and its migration adds the
real foreign key from orders to customers. Both are the schema coupling the
paper warns about: rename a column of ``customers_customer`` and this breaks.
"""
