"""The analytics service's adapters, as its handlers and commands see them.

A leaf: ``analytics_service.bootstrap`` decides what goes in and installs it
from ``RevenueConfig.ready()``; nothing here looks at the approach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared_events.composition import InstalledWiring, ServiceWiring


@dataclass(frozen=True, kw_only=True)
class AnalyticsServiceWiring(ServiceWiring):
    # Where the past comes from: the URL of the order service's event store,
    # read-only for the replay; None where there is none (``no_history``
    # says why).
    order_event_store_url: Callable[[], str] | None
    no_history: str | None = None
    # Why this platform cannot deliver the order events to a new inbox
    # (a delivery without SNS fan-out); None when it can.
    no_live_delivery: str | None = None


_installed: InstalledWiring[AnalyticsServiceWiring] = InstalledWiring("analytics")
install = _installed.install
current = _installed.current
overridden = _installed.overridden
