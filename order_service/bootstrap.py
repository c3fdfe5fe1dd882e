"""The order service's composition root.

The only place in the order service that looks at ``ARCHITECTURE_APPROACH``
and chooses adapters from it. Domain code asks for the adapters it needs and
never branches on the approach itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings

from order_service.orders.customers import (
    CustomerDirectory,
    HttpCustomerDirectory,
    SharedTableCustomerDirectory,
)
from shared_events.approaches import (
    Approach,
    approach_info,
    parse_approach,
    require_built,
)


@dataclass(frozen=True)
class OrderServiceWiring:
    approach: Approach
    customer_directory: CustomerDirectory


_override: OrderServiceWiring | None = None
_cache: dict[Approach, OrderServiceWiring] = {}


def _build(approach: Approach) -> OrderServiceWiring:
    require_built(approach)
    if approach_info(approach).shares_database:
        directory: CustomerDirectory = SharedTableCustomerDirectory()
    else:
        directory = HttpCustomerDirectory(
            base_url=settings.CUSTOMER_SERVICE_URL,
            token=settings.CUSTOMER_SERVICE_TOKEN,
            timeout=settings.CUSTOMER_SERVICE_TIMEOUT,
        )
    return OrderServiceWiring(approach=approach, customer_directory=directory)


def wiring() -> OrderServiceWiring:
    """The adapters for the current approach (built once per approach)."""
    if _override is not None:
        return _override
    approach = parse_approach(settings.ARCHITECTURE_APPROACH)
    if approach not in _cache:
        _cache[approach] = _build(approach)
    return _cache[approach]


@contextmanager
def overridden(**adapters) -> Iterator[OrderServiceWiring]:
    """Swap adapters for a test, e.g. ``overridden(customer_directory=fake)``."""
    global _override
    previous = _override
    _override = replace(wiring(), **adapters)
    try:
        yield _override
    finally:
        _override = previous
