"""The analytics service's composition root.

The only place in the analytics service that looks at the approach and the
backends: whether the order service keeps a history to replay (approaches 4
and 5, on PostgreSQL's event store) and whether a new inbox can hear its
events (SNS fan-out). ``RevenueConfig.ready()`` installs ``build_wiring``
into ``analytics_service.wiring``; nothing below imports this module.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings

from analytics_service import wiring
from analytics_service.revenue.handlers import REVENUE_HANDLERS
from analytics_service.wiring import AnalyticsServiceWiring
from shared_events.approaches import (
    APPROACHES,
    Approach,
    EventStoreBackend,
    Persistence,
    require_built,
)
from shared_events.composition import event_store_backend
from shared_events.configuration import database_url, load_env

PRODUCER = "order"


def _order_event_store_url(approach: Approach) -> str:
    return database_url(env=load_env(), service=PRODUCER, approach=approach)


def build_wiring(approach: Approach) -> AnalyticsServiceWiring:
    info = require_built(approach)
    url, no_history = None, None
    if not info.event_sourced(PRODUCER):
        keeping = [a.value for a, i in APPROACHES.items() if i.event_sourced(PRODUCER)]
        no_history = (
            f"approach {info.label} keeps no history of orders (the order service "
            "stores current state only), so there is nothing to replay; the "
            f"order service keeps its events under {', '.join(keeping)}"
        )
    elif event_store_backend() != EventStoreBackend.POSTGRES:
        no_history = (
            f"EVENT_STORE={settings.EVENT_STORE}: the replay reads the order "
            "service's PostgreSQL event store, and this one is a DynamoDB table"
        )
    else:
        url = partial(_order_event_store_url, approach)
    no_live_delivery = None
    if info.persistence(PRODUCER) == Persistence.STATE:
        no_live_delivery = (
            f"under approach {info.label} the order service publishes no events"
        )
    elif settings.EVENT_DELIVERY != "sns":
        no_live_delivery = (
            f"EVENT_DELIVERY={settings.EVENT_DELIVERY}: the analytics service "
            "subscribes an SQS inbox to the order service's SNS topic (SNS/SQS "
            "only). Without SNS the producer sends only to the inboxes it knows "
            "(sqs), or a stream is read through mappings of the producer's "
            "process table (kinesis): either way joining would change a producer"
        )
    return AnalyticsServiceWiring(
        approach=approach,
        publisher_factory=None,
        event_handlers=REVENUE_HANDLERS,
        order_event_store_url=url,
        no_history=no_history,
        no_live_delivery=no_live_delivery,
        no_read_models=None,
    )


def install() -> None:
    """Make ``build_wiring`` what ``analytics_service.wiring.current()`` builds with."""
    wiring.install(build_wiring)


overridden = wiring.overridden
