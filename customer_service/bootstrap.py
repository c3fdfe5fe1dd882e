"""The customer service's composition root.

The only place in the customer service that looks at the approach and
chooses adapters from it: the repository that stores Customer aggregates,
where a customer's history is read (if the approach keeps one), the
publisher the outbox relay uses, and the handlers its consumer runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings

from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.repositories import CustomerStateTable
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
    DirectPublishRepository,
    EventSourcedRepository,
    Repository,
    StateTableRepository,
)
from shared_events.tasks import wake_relay

PRODUCER = "customer"


@dataclass(frozen=True)
class CustomerServiceWiring:
    approach: Approach
    customer_repository: Repository[CustomerAggregate]
    # The event store under event sourcing; NoHistory (404 with the reason)
    # where customers are kept as current state only.
    customer_history: AggregateHistory[CustomerAggregate]
    # What the outbox relay publishes with; None where there is no outbox.
    publisher_factory: Callable[[], EventPublisher] | None
    event_handlers: Mapping[str, Sequence[Handler]]
    # What the read-side consumer projects into the read database (approach 5).
    projection_handlers: Mapping[str, Sequence[Handler]] = field(default_factory=dict)

    @property
    def event_publisher(self) -> EventPublisher | None:
        return self.publisher_factory() if self.publisher_factory else None


def _repository(persistence: str) -> Repository[CustomerAggregate]:
    table = CustomerStateTable()
    fault = settings.FAULT_INJECTION
    factories = {
        "state": lambda: StateTableRepository(table=table, producer=PRODUCER),
        "direct_publish": lambda: DirectPublishRepository(
            table=table,
            producer=PRODUCER,
            publish=partial(messaging.publish_now, PRODUCER),
            fault=fault,
        ),
        "event_sourced": lambda: EventSourcedRepository(
            aggregate_class=CustomerAggregate,
            table=table,
            producer=PRODUCER,
            wake_relay=wake_relay,
            fault=fault,
        ),
    }
    return factories[persistence]()


def _history(
    info: ApproachInfo, repository: Repository[CustomerAggregate]
) -> AggregateHistory[CustomerAggregate]:
    if info.customer_persistence == "event_sourced":
        return EventStoreHistory(repository=repository)
    keeping = [
        other.approach.value
        for other in APPROACHES.values()
        if other.customer_persistence == "event_sourced"
    ]
    return NoHistory(
        reason=state_only_reason(
            approach_label=info.label, aggregate="customer", keeping=keeping
        )
    )


def _build(approach: Approach) -> CustomerServiceWiring:
    info = require_built(approach)
    has_outbox = info.customer_persistence == "event_sourced"
    repository = _repository(info.customer_persistence)
    return CustomerServiceWiring(
        approach=approach,
        customer_repository=repository,
        customer_history=_history(info, repository),
        publisher_factory=(
            partial(messaging.event_publisher, PRODUCER) if has_outbox else None
        ),
        # The customer service does not react to order events yet; its
        # consumer still tracks them, in order, so nothing piles up.
        event_handlers={},
        projection_handlers=_projection_handlers(info),
    )


def _projection_handlers(info) -> Mapping[str, Sequence[Handler]]:
    if not info.read_side:
        return {}
    from customer_service.summaries.projections import PROJECTION_HANDLERS

    return PROJECTION_HANDLERS


_wirings: WiringCache[CustomerServiceWiring] = WiringCache(_build)
wiring = _wirings.wiring
overridden = _wirings.overridden
