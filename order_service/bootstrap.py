"""The order service's composition root.

The only place in the order service that looks at the approach and chooses
adapters from it: where customer data comes from, the repository that stores
Order aggregates, where an order's history is read (if the approach keeps
one), the publisher the outbox relay uses, and the handlers its consumer
runs. Domain code asks for what it needs and never branches on the
approach itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings

from order_service.orders.customers import (
    CustomerDirectory,
    HttpCustomerDirectory,
    ReplicaCustomerDirectory,
    SharedTableCustomerDirectory,
)
from order_service.orders.domain import OrderAggregate
from order_service.orders.repositories import OrderStateTable
from shared_events import messaging
from shared_events.approaches import (
    APPROACHES,
    Approach,
    ApproachInfo,
    require_built,
)
from shared_events.aws.publishers import EventPublisher
from shared_events.composition import WiringCache
from shared_events.consumer import Handler
from shared_events.history import (
    AggregateHistory,
    EventStoreHistory,
    NoHistory,
    state_only_reason,
)
from shared_events.repositories import (
    EventSourcedRepository,
    Repository,
    StateTableRepository,
)
from shared_events.tasks import wake_relay

PRODUCER = "order"


@dataclass(frozen=True)
class OrderServiceWiring:
    approach: Approach
    customer_directory: CustomerDirectory
    order_repository: Repository[OrderAggregate]
    # The event store under event sourcing; NoHistory (404 with the reason)
    # where orders are kept as current state only.
    order_history: AggregateHistory[OrderAggregate]
    # What the outbox relay publishes with; None where there is no outbox.
    publisher_factory: Callable[[], EventPublisher] | None
    event_handlers: Mapping[str, Sequence[Handler]]
    # What the read-side consumer projects into the read database (approach 5).
    projection_handlers: Mapping[str, Sequence[Handler]] = field(default_factory=dict)

    @property
    def event_publisher(self) -> EventPublisher | None:
        return self.publisher_factory() if self.publisher_factory else None


def _customer_directory(lookup: str) -> CustomerDirectory:
    factories: dict[str, Callable[[], CustomerDirectory]] = {
        "shared_table": SharedTableCustomerDirectory,
        "http": lambda: HttpCustomerDirectory(
            base_url=settings.CUSTOMER_SERVICE_URL,
            token=settings.CUSTOMER_SERVICE_TOKEN,
            timeout=settings.CUSTOMER_SERVICE_TIMEOUT,
        ),
        "replica": ReplicaCustomerDirectory,
    }
    return factories[lookup]()


def _repository(persistence: str) -> Repository[OrderAggregate]:
    table = OrderStateTable()
    factories = {
        "state": lambda: StateTableRepository(table=table, producer=PRODUCER),
        "event_sourced": lambda: EventSourcedRepository(
            aggregate_class=OrderAggregate,
            table=table,
            producer=PRODUCER,
            wake_relay=wake_relay,
            fault=settings.FAULT_INJECTION,
        ),
    }
    return factories[persistence]()


def _history(
    info: ApproachInfo, repository: Repository[OrderAggregate]
) -> AggregateHistory[OrderAggregate]:
    if info.order_persistence == "event_sourced":
        return EventStoreHistory(repository=repository)
    keeping = [
        other.approach.value
        for other in APPROACHES.values()
        if other.order_persistence == "event_sourced"
    ]
    return NoHistory(
        reason=state_only_reason(
            approach_label=info.label, aggregate="order", keeping=keeping
        )
    )


def _build(approach: Approach) -> OrderServiceWiring:
    from order_service.orders.handlers import EVENT_HANDLERS

    info = require_built(approach)
    has_outbox = info.order_persistence == "event_sourced"
    keeps_replica = info.customer_lookup == "replica"
    repository = _repository(info.order_persistence)
    return OrderServiceWiring(
        approach=approach,
        customer_directory=_customer_directory(info.customer_lookup),
        order_repository=repository,
        order_history=_history(info, repository),
        publisher_factory=(
            partial(messaging.event_publisher, PRODUCER) if has_outbox else None
        ),
        event_handlers=EVENT_HANDLERS if keeps_replica else {},
        projection_handlers=_projection_handlers(info),
    )


def _projection_handlers(info) -> Mapping[str, Sequence[Handler]]:
    if not info.read_side:
        return {}
    from order_service.order_views.projections import PROJECTION_HANDLERS

    return PROJECTION_HANDLERS


_wirings: WiringCache[OrderServiceWiring] = WiringCache(_build)
wiring = _wirings.wiring
overridden = _wirings.overridden
