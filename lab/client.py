"""A learner's HTTP client for both services, counting what failed and why.

It also keeps every answer's time and status (``answers``): the lab's
"requests over time" chart is drawn from them, so a learner sees when the
failures happened (while a service was down), not only how many.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import requests


class PlatformClient:
    def __init__(self, *, customer_url: str, order_url: str, token: str) -> None:
        self.customer_url = customer_url.rstrip("/")
        self.order_url = order_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.failures: Counter[str] = Counter()
        # (time.monotonic() when answered, status code or "connection error").
        self.answers: list[tuple[float, str]] = []

    def _post(self, url: str, payload: dict | None = None) -> requests.Response:
        try:
            response = self.session.post(url, json=payload or {}, timeout=10)
        except requests.RequestException as error:
            self.failures[f"connection error ({error.__class__.__name__})"] += 1
            self.answers.append((time.monotonic(), "connection error"))
            raise
        self.answers.append((time.monotonic(), str(response.status_code)))
        if response.status_code >= 400:
            self.failures[str(response.status_code)] += 1
        return response

    def register_customer(self, *, name: str, email: str, address: str) -> dict:
        response = self._post(
            f"{self.customer_url}/api/customers/register/",
            {"name": name, "email": email, "address": address},
        )
        response.raise_for_status()
        return response.json()

    def delete_customer(self, customer_id: str, *, open_orders: str = "cancel") -> None:
        """Delete a customer. ``open_orders="cancel"``: the lab's scenarios are
        about what becomes of the orders; "refuse" keeps a customer whose open
        orders the customer service knows (409, recorded)."""
        response = self._post(
            f"{self.customer_url}/api/customers/{customer_id}/delete/",
            {"open_orders": open_orders},
        )
        response.raise_for_status()

    def place_order(
        self, *, customer_id: str, lines: list[tuple[str, int, Decimal]]
    ) -> requests.Response:
        """Place an order; the response is returned whatever its status."""
        return self._post(
            f"{self.order_url}/api/orders/place/",
            {
                "customer_id": customer_id,
                "lines": [
                    {"sku": sku, "quantity": quantity, "unit_price": str(price)}
                    for sku, quantity, price in lines
                ],
            },
        )
