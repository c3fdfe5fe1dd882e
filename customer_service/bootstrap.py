"""The customer service's composition root.

The only place in the customer service that looks at the approach and
chooses adapters from it: the repository that stores Customer aggregates,
where a customer's history is read (if the approach keeps one), the
publisher the outbox relay uses, and the handlers its consumer runs.
``CustomersConfig.ready()`` installs ``build_wiring`` into
``customer_service.wiring``, which is all the code below ever sees: nothing
below imports this module.
"""

from __future__ import annotations

from collections.abc import Callable

from customer_service import wiring
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.handlers import EVENT_HANDLERS
from customer_service.customers.repositories import CustomerStateTable
from customer_service.customers.services import customer_state_keep
from customer_service.summaries.projections import PROJECTION_HANDLERS
from customer_service.wiring import CustomerServiceWiring
from shared_events.approaches import Approach, require_built
from shared_events.composition import read_side, write_side
from shared_events.tasks import wake_relay as wake_relay_worker

SERVICE = "customer"


def build_wiring(
    approach: Approach, *, wake_relay: Callable[[], None] = wake_relay_worker
) -> CustomerServiceWiring:
    """The customer service's adapters under ``approach`` (``wake_relay``: see
    ``shared_events.composition.write_side``)."""
    info = require_built(approach)
    write = write_side(
        info=info,
        service=SERVICE,
        aggregate_class=CustomerAggregate,
        table=CustomerStateTable(),
        wake_relay=wake_relay,
    )
    return CustomerServiceWiring(
        approach=approach,
        customer_repository=write.repository,
        customer_history=write.history,
        state_keepers={CustomerAggregate.aggregate_type: customer_state_keep},
        publisher_factory=write.publisher_factory,
        # Where orders are event-sourced, the customer service answers them
        # (the credit saga); elsewhere the order service checks the credit
        # limit itself before it places an order.
        event_handlers=EVENT_HANDLERS if info.event_sourced("order") else {},
        **read_side(info=info, handlers=PROJECTION_HANDLERS),
    )


def install() -> None:
    """Make ``build_wiring`` what ``customer_service.wiring.current()`` builds with."""
    wiring.install(build_wiring)


# Tests and benchmarks swap adapters through the composition root as well.
overridden = wiring.overridden
