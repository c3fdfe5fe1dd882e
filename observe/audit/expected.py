"""Expected rows: every copy as the fold of the events says it should be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from observe.audit.fold import CustomerFact, WriteSideFold


def _contact_details(fact: CustomerFact) -> dict[str, Any]:
    """The customer's details every copy keeps, as its latest event set them."""
    return {"name": fact.name, "email": fact.email, "address": fact.address}


def expected_replica(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    """orders_customer_replica as the customer events say it should be."""
    return {
        customer_id: {
            **_contact_details(fact),
            "version": fact.version,
            "deleted": fact.deleted,
        }
        for customer_id, fact in fold.customers.items()
        if fact.registered
    }


def expected_customer_summaries(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    rows = {}
    for customer_id, fact in fold.known_customers().items():
        rows[customer_id] = {
            **_contact_details(fact),
            "registered": fact.registered,
            "deleted": fact.deleted,
            "customer_version": fact.version,
            "order_count": 0,
            "open_order_count": 0,
            "lifetime_value": Decimal("0"),
            "last_order_at": None,
        }
    for order in fold.placed_orders():
        row = rows[order.customer_id]
        row["order_count"] += 1
        if order.is_open:
            row["open_order_count"] += 1
            row["lifetime_value"] += order.total
        if row["last_order_at"] is None or order.placed_at > row["last_order_at"]:
            row["last_order_at"] = order.placed_at
    return rows


def expected_summary_orders(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    return {
        order.order_id: {
            "customer_id": order.customer_id,
            "total": order.total,
            "status": order.status,
        }
        for order in fold.placed_orders()
    }


def expected_order_views(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    rows = {}
    for order in fold.placed_orders():
        customer = fold.customers.get(order.customer_id) or CustomerFact("")
        rows[order.order_id] = {
            "order_version": order.version,
            "customer_id": order.customer_id,
            "customer_name": customer.name,
            "customer_email": customer.email,
            "customer_address": customer.address,
            "customer_deleted": customer.deleted,
            "status": order.status,
            "cancel_reason": order.cancel_reason,
            "total": order.total,
            "lines": order.lines,
            "placed_at": order.placed_at,
            "cancelled_at": order.cancelled_at,
        }
    return rows


def expected_order_view_customers(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    return {
        customer_id: {
            "customer_version": fact.version,
            **_contact_details(fact),
            "deleted": fact.deleted,
        }
        for customer_id, fact in fold.known_customers().items()
    }
