"""An aggregate's API routes, by their URL names, for tests."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class AggregateRoute:
    """One route of an aggregate's API; called with an id, it gives the URL.

    ``cancel_url = AggregateRoute("order-cancel", "order_id")``, then
    ``cancel_url(order.id)``; the route's other arguments go by name
    (``as_of_url(order.id, version=2)``).
    """

    name: str  # the URL name, e.g. "order-cancel"
    id_name: str  # the URL argument that carries the id, e.g. "order_id"

    def __call__(self, aggregate_id, **arguments) -> str:
        return reverse(self.name, kwargs={self.id_name: aggregate_id, **arguments})
