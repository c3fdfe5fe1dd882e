"""The customer service's adapters, as its services and selectors see them.

A leaf: it imports the ports, never the service's own code above them, and
never the composition root. ``customer_service.bootstrap`` decides what goes
in (``build_wiring``) and installs it from ``CustomersConfig.ready()``; the
code below asks ``current()`` for what it needs and never looks at the
approach.
"""

from __future__ import annotations

from dataclasses import dataclass

from customer_service.customers.domain import CustomerAggregate
from shared_events.composition import InstalledWiring, ServiceWiring
from shared_events.write_side import AggregateHistory, Repository


@dataclass(frozen=True, kw_only=True)
class CustomerServiceWiring(ServiceWiring):
    customer_repository: Repository[CustomerAggregate]
    # The event store under event sourcing; NoHistory (404 with the reason)
    # where customers are kept as current state only.
    customer_history: AggregateHistory[CustomerAggregate]


_installed: InstalledWiring[CustomerServiceWiring] = InstalledWiring("customer")
install = _installed.install
current = _installed.current
overridden = _installed.overridden
