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

from django.conf import settings

from customer_service import wiring
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.repositories import CustomerStateTable
from customer_service.wiring import CustomerServiceWiring
from shared_events.approaches import Approach, require_built
from shared_events.composition import (
    aggregate_history,
    aggregate_repository,
    outbox_publisher,
    projection_handlers,
)
from shared_events.tasks import wake_relay as wake_relay_worker

SERVICE = "customer"


def build_wiring(
    approach: Approach, *, wake_relay: Callable[[], None] = wake_relay_worker
) -> CustomerServiceWiring:
    """The customer service's adapters under ``approach``.

    ``wake_relay`` is what an event-sourced save calls after commit; a test
    or a benchmark without a relay passes a no-op.
    """
    info = require_built(approach)
    repository = aggregate_repository(
        persistence=info.customer_persistence,
        aggregate_class=CustomerAggregate,
        table=CustomerStateTable(),
        producer=SERVICE,
        wake_relay=wake_relay,
        fault=settings.FAULT_INJECTION,
    )
    return CustomerServiceWiring(
        approach=approach,
        customer_repository=repository,
        customer_history=aggregate_history(
            info=info, service=SERVICE, repository=repository
        ),
        publisher_factory=outbox_publisher(info=info, service=SERVICE),
        # The customer service does not react to order events yet; its
        # consumer still tracks them, in order, so nothing piles up.
        event_handlers={},
        projection_handlers=projection_handlers(
            info=info, module="customer_service.summaries.projections"
        ),
    )


def install() -> None:
    """Make ``build_wiring`` what ``customer_service.wiring.current()`` builds with."""
    wiring.install(build_wiring)


# Tests and benchmarks swap adapters through the composition root as well.
overridden = wiring.overridden
