"""The order service's composition root.

The only place in the order service that looks at the approach and chooses
adapters from it: where customer data comes from, the repository that stores
Order aggregates, where an order's history is read (if the approach keeps
one), the publisher the outbox relay uses, and the handlers its consumer
runs. ``OrdersConfig.ready()`` installs ``build_wiring`` into
``order_service.wiring``, which is all the code below ever sees: nothing
below imports this module.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from order_service import wiring
from order_service.order_views.projections import PROJECTION_HANDLERS
from order_service.orders.credit import CheckThenPlace, CreditSaga, credit_check_hold
from order_service.orders.customers import (
    CustomerDirectory,
    HttpCustomerDirectory,
    ReplicaCustomerDirectory,
    SharedTableCustomerDirectory,
)
from order_service.orders.domain import OrderAggregate
from order_service.orders.handlers import EVENT_HANDLERS
from order_service.orders.repositories import OrderStateTable
from order_service.orders.services import order_state_keep
from order_service.wiring import OrderServiceWiring
from shared_events.approaches import Approach, CustomerLookup, require_built
from shared_events.composition import read_side, write_side
from shared_events.tasks import wake_relay as wake_relay_worker

SERVICE = "order"


def _customer_directory(lookup: CustomerLookup) -> CustomerDirectory:
    match lookup:
        case CustomerLookup.SHARED_TABLE:
            return SharedTableCustomerDirectory()
        case CustomerLookup.HTTP:
            return HttpCustomerDirectory(
                base_url=settings.CUSTOMER_SERVICE_URL,
                token=settings.CUSTOMER_SERVICE_TOKEN,
                timeout=settings.CUSTOMER_SERVICE_TIMEOUT,
                retries=settings.CUSTOMER_SERVICE_RETRIES,
            )
        case CustomerLookup.REPLICA:
            return ReplicaCustomerDirectory()
    raise ValueError(f"unknown customer lookup {lookup!r}")


def build_wiring(
    approach: Approach, *, wake_relay: Callable[[], None] = wake_relay_worker
) -> OrderServiceWiring:
    """The order service's adapters under ``approach`` (``wake_relay``: see
    ``shared_events.composition.write_side``)."""
    info = require_built(approach)
    write = write_side(
        info=info,
        service=SERVICE,
        aggregate_class=OrderAggregate,
        table=OrderStateTable(),
        wake_relay=wake_relay,
    )
    return OrderServiceWiring(
        approach=approach,
        customer_directory=_customer_directory(info.customer_lookup),
        # Where the customer service hears of every order (its events), it
        # decides the credit limit: the saga. Elsewhere the order service
        # checks it itself, then places.
        credit_rule=(
            CreditSaga()
            if info.event_sourced("order")
            else CheckThenPlace(
                hold_seconds=credit_check_hold(settings.FAULT_INJECTION)
            )
        ),
        order_repository=write.repository,
        order_history=write.history,
        state_keepers={OrderAggregate.aggregate_type: order_state_keep},
        publisher_factory=write.publisher_factory,
        event_handlers=EVENT_HANDLERS if info.keeps_replica else {},
        **read_side(info=info, handlers=PROJECTION_HANDLERS),
    )


def install() -> None:
    """Make ``build_wiring`` what ``order_service.wiring.current()`` builds with."""
    wiring.install(build_wiring)


# Tests and benchmarks swap adapters through the composition root as well.
overridden = wiring.overridden
