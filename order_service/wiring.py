"""The order service's adapters, as its services, selectors and handlers see them.

A leaf: it imports the ports, never the service's own code above them, and
never the composition root. ``order_service.bootstrap`` decides what goes in
(``build_wiring``) and installs it from ``OrdersConfig.ready()``; the code
below asks ``current()`` for what it needs and never looks at the approach.
"""

from __future__ import annotations

from dataclasses import dataclass

from order_service.orders.credit import CreditRule
from order_service.orders.customers import CustomerDirectory
from order_service.orders.domain import OrderAggregate
from shared_events.composition import InstalledWiring, ServiceWiring
from shared_events.write_side import AggregateHistory, Repository


@dataclass(frozen=True, kw_only=True)
class OrderServiceWiring(ServiceWiring):
    customer_directory: CustomerDirectory
    # Who decides the credit limit, and when (order_service.orders.credit).
    credit_rule: CreditRule
    order_repository: Repository[OrderAggregate]
    # The event store under event sourcing; NoHistory (404 with the reason)
    # where orders are kept as current state only.
    order_history: AggregateHistory[OrderAggregate]


_installed: InstalledWiring[OrderServiceWiring] = InstalledWiring("order")
install = _installed.install
current = _installed.current
overridden = _installed.overridden
