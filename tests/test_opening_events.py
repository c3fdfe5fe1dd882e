"""The opening events of ``approach migrate --to event_sourcing``: their
schemas in the registry and the auditor's fold of them. Fast: no database.

A learner should see that an opening event is held to the same contract as
every other event (a closed schema, money as strings), that it is not part
of the vocabulary on the wire (``EventType``), and that the auditor folds an
imported customer or order to the state it was imported with.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from observe.audit.fold import WriteSideFold
from shared_events.events import (
    CUSTOMER_MISSING_AT_IMPORT,
    REGISTRY,
    EventType,
    InvalidEvent,
    OpeningEventType,
    new_envelope,
    to_dict,
)
from strangler.opening_events import opening_envelope

CUSTOMER_ID = str(uuid.uuid4())
ORDER_ID = str(uuid.uuid4())


def customer_payload(**changes) -> dict:
    return {
        "customer_id": CUSTOMER_ID,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 St James's Square",
        "reservations": {ORDER_ID: "13.50"},
        **changes,
    }


def order_payload(**changes) -> dict:
    return {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "status": "approved",
        "lines": [{"sku": "FIG", "quantity": 3, "unit_price": "4.50"}],
        "total": "13.50",
        **changes,
    }


def test_opening_events_are_registered_but_not_on_the_wire():
    known = set(REGISTRY.known_types())
    assert ("CustomerImported", 1) in known
    assert ("OrderImported", 1) in known
    assert not set(OpeningEventType) & {str(t) for t in EventType}


def test_an_opening_event_is_version_one_of_its_aggregate():
    customer = opening_envelope("customer", customer_payload())
    order = opening_envelope("order", order_payload())
    assert (customer.event_type, customer.aggregate_type) == (
        "CustomerImported",
        "Customer",
    )
    assert (order.event_type, order.aggregate_type) == ("OrderImported", "Order")
    assert customer.aggregate_version == order.aggregate_version == 1
    assert customer.aggregate_id == CUSTOMER_ID and order.aggregate_id == ORDER_ID


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("customer", customer_payload(credit="1"), "credit"),
        ("customer", customer_payload(reservations={ORDER_ID: 13.5}), "13.5"),
        ("customer", customer_payload(reservations={"x": "1.00"}), "x"),
        ("customer", customer_payload(name=""), "name"),
        ("order", order_payload(status="shipped"), "status"),
        ("order", order_payload(total="13.555"), "total"),
        ("order", order_payload(lines=[{"sku": "FIG", "quantity": 0}]), "lines"),
    ],
)
def test_a_snapshot_that_breaks_its_schema_is_refused(kind, payload, reason):
    with pytest.raises(InvalidEvent) as refused:
        opening_envelope(kind, payload)
    assert reason in str(refused.value)


def test_an_order_refused_outright_may_be_imported_without_lines():
    envelope = opening_envelope("order", order_payload(status="rejected", lines=[]))
    assert envelope.payload["lines"] == []


def test_the_orphan_policy_has_its_own_cancellation_reason():
    envelope = new_envelope(
        event_type=EventType.ORDER_CANCELLED,
        aggregate_type="Order",
        aggregate_id=ORDER_ID,
        aggregate_version=2,
        producer="order",
        payload={
            "order_id": ORDER_ID,
            "customer_id": CUSTOMER_ID,
            "reason": CUSTOMER_MISSING_AT_IMPORT,
        },
    )
    REGISTRY.validate(to_dict(envelope), constructed=True)


def _row(envelope) -> dict:
    return {
        "aggregate_type": envelope.aggregate_type,
        "aggregate_id": envelope.aggregate_id,
        "aggregate_version": envelope.aggregate_version,
        "event_type": envelope.event_type,
        "payload": envelope.payload,
        "occurred_at": envelope.occurred_at,
    }


def test_the_auditor_folds_an_imported_customer_and_order_to_their_snapshot():
    fold = WriteSideFold()
    fold.apply(_row(opening_envelope("customer", customer_payload())))
    fold.apply(_row(opening_envelope("order", order_payload())))
    customer = fold.customers[CUSTOMER_ID]
    assert (customer.name, customer.registered, customer.version) == (
        "Ada Lovelace",
        True,
        1,
    )
    assert customer.reservations == {ORDER_ID: Decimal("13.50")}
    order = fold.orders[ORDER_ID]
    assert (order.status, order.total, order.version, order.is_open) == (
        "approved",
        Decimal("13.50"),
        1,
        True,
    )
    assert order.was_placed
