"""The order service's query side (approach 5): the OrderView read model.

Installed only under cqrs_es; its tables live in the read database. Written
only by projection handlers run by the read-side consumer (or a rebuild),
read only by query code.
"""
