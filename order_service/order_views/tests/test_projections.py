"""The OrderView projection, fed through the read-side consumer's core.

What a learner should see proven:

* one customer event updates every OrderView row of that customer (the price
  of copying the customer's details into each order);
* events of different aggregates give the same rows in any order: an order
  projected before its customer's registration included;
* a duplicate delivery changes nothing;
* every row records the last event applied to it;
* outside a projection, nothing may write a read model.
"""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from order_service.order_views.models import OrderView, OrderViewCustomer
from order_service.order_views.projections import PROJECTION_HANDLERS
from order_service.order_views.tests.projection_support import project
from shared_events.consume import Outcome
from shared_events.events import EventType
from shared_events.read_side import ReadModelWriteRefused
from shared_events.testing.projection_events import (
    address_changed,
    at,
    cancelled,
    deleted,
    email_changed,
    placed,
    registered,
    rejected,
    renamed,
)

pytestmark = pytest.mark.django_db(databases=["default", "read"])

VIEW_FIELDS = [
    "order_version",
    "customer_name",
    "customer_email",
    "customer_address",
    "customer_deleted",
    "status",
    "cancel_reason",
    "total",
    "lines",
    "placed_at",
    "cancelled_at",
]


def view_of(order_id: uuid.UUID) -> dict:
    view = OrderView.objects.get(order_id=order_id)
    return {field: getattr(view, field) for field in VIEW_FIELDS}


def row_state(row) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
    }


def customer_columns(customer_id: uuid.UUID) -> set[tuple]:
    return set(
        OrderView.objects.filter(customer_id=customer_id).values_list(
            "customer_name", "customer_email", "customer_address", "customer_deleted"
        )
    )


def test_every_event_type_of_the_catalog_has_a_decided_projection():
    # An empty list is a decision too ("no row"); a missing key would be a
    # new event type nobody thought about for the read model.
    assert set(PROJECTION_HANDLERS) == set(EventType)


def test_a_placed_order_becomes_a_row_with_its_customer_copied_in():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    project(registered(customer_id))

    project(
        placed(
            order_id,
            customer_id,
            lines=[("BOOK-1", 2, "10.25"), ("PEN-1", 1, "5.00")],
            minutes=4,
        )
    )

    assert view_of(order_id) == {
        "order_version": 1,
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_address": "12 St James's Square, London",
        "customer_deleted": False,
        "status": "placed",
        "cancel_reason": "",
        "total": Decimal("25.50"),
        "lines": [
            {"sku": "BOOK-1", "quantity": 2, "unit_price": "10.25"},
            {"sku": "PEN-1", "quantity": 1, "unit_price": "5.00"},
        ],
        "placed_at": at(4),
        "cancelled_at": None,
    }


def test_a_cancelled_order_says_when_and_why():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    project(
        placed(order_id, customer_id),
        cancelled(order_id, customer_id, reason="customer_deleted", minutes=7),
    )

    view = view_of(order_id)
    assert (view["status"], view["cancel_reason"], view["cancelled_at"]) == (
        "cancelled",
        "customer_deleted",
        at(7),
    )
    assert view["order_version"] == 2


def test_a_rejected_order_gets_no_row():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    assert project(rejected(order_id, customer_id)) == [Outcome.APPLIED]

    assert not OrderView.objects.filter(order_id=order_id).exists()


def test_renaming_a_customer_updates_every_order_of_that_customer():
    customer_id, other_customer = uuid.uuid4(), uuid.uuid4()
    orders = [uuid.uuid4() for _ in range(3)]
    project(
        registered(customer_id),
        registered(other_customer, name="Grace Hopper", email="grace@example.com"),
        *(placed(order_id, customer_id) for order_id in orders),
        placed(uuid.uuid4(), other_customer),
    )

    rename = renamed(customer_id, "Ada King", version=2, minutes=5)
    project(rename)

    assert {view_of(order_id)["customer_name"] for order_id in orders} == {"Ada King"}
    assert set(
        OrderView.objects.filter(customer_id=customer_id).values_list(
            "last_event_id", flat=True
        )
    ) == {rename.event_id}
    assert customer_columns(other_customer) == {
        ("Grace Hopper", "grace@example.com", "12 St James's Square, London", False)
    }
    customer = OrderViewCustomer.objects.get(customer_id=customer_id)
    assert (customer.name, customer.customer_version) == ("Ada King", 2)


def test_email_and_address_changes_reach_every_order_too():
    customer_id = uuid.uuid4()
    project(
        registered(customer_id),
        placed(uuid.uuid4(), customer_id),
        placed(uuid.uuid4(), customer_id),
        email_changed(customer_id, "ada@king.example", version=2),
        address_changed(customer_id, "Ockham Park, Surrey", version=3),
    )

    assert customer_columns(customer_id) == {
        ("Ada Lovelace", "ada@king.example", "Ockham Park, Surrey", False)
    }


def test_deleting_a_customer_marks_every_order_of_theirs():
    customer_id = uuid.uuid4()
    orders = [uuid.uuid4(), uuid.uuid4()]
    project(
        registered(customer_id),
        *(placed(order_id, customer_id) for order_id in orders),
        deleted(customer_id, version=2),
    )

    assert {view_of(order_id)["customer_deleted"] for order_id in orders} == {True}
    assert OrderViewCustomer.objects.get(customer_id=customer_id).deleted is True
    # the orders stay: cancelling them is the order service's own event
    assert {view_of(order_id)["status"] for order_id in orders} == {"placed"}


def test_an_order_before_the_registration_gets_the_customer_when_it_arrives():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    project(placed(order_id, customer_id))
    early = view_of(order_id)
    project(registered(customer_id))

    assert (early["customer_name"], early["customer_email"]) == ("", "")
    assert customer_columns(customer_id) == {
        ("Ada Lovelace", "ada@example.com", "12 St James's Square, London", False)
    }


def _merge_orders(*lengths: int) -> list[tuple[int, ...]]:
    """Every order in which streams of these lengths can interleave.

    Each order is a tuple of stream indexes; every stream keeps its own order
    (as the consumer keeps each aggregate's events in version order).
    """
    slots = [index for index, length in enumerate(lengths) for _ in range(length)]
    return sorted(set(itertools.permutations(slots)))


def _merged(streams: tuple[list, ...], order: tuple[int, ...]) -> list:
    iterators = [iter(stream) for stream in streams]
    return [next(iterators[index]) for index in order]


def _streams(customer_id: uuid.UUID, orders: list[uuid.UUID]) -> tuple[list, ...]:
    """One customer's events and two orders' events: three aggregates."""
    first, second = orders
    return (
        [
            registered(customer_id),
            renamed(customer_id, "Ada King", version=2, minutes=2),
            deleted(customer_id, version=3, minutes=6),
        ],
        [
            placed(first, customer_id, lines=[("BOOK-1", 2, "9.99")], minutes=1),
            cancelled(first, customer_id, minutes=5),
        ],
        [placed(second, customer_id, lines=[("PEN-1", 1, "3.50")], minutes=3)],
    )


def test_events_of_different_aggregates_in_any_order_give_the_same_read_models():
    merge_orders = _merge_orders(3, 2, 1)
    assert len(merge_orders) == 60  # 6! / (3! 2! 1!)
    results = {}
    for merge_order in merge_orders:
        customer_id, orders = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
        events = _merged(_streams(customer_id, orders), merge_order)
        assert project(*events) == [Outcome.APPLIED] * len(events)
        customer = OrderViewCustomer.objects.get(customer_id=customer_id)
        results[merge_order] = (
            [view_of(order_id) for order_id in orders],
            (
                customer.name,
                customer.email,
                customer.deleted,
                customer.customer_version,
            ),
        )

    # the order in which the customer's events all come first ...
    reference = results[(0, 0, 0, 1, 1, 2)]
    # ... and the one in which both orders come before the registration
    assert results[(1, 1, 2, 0, 0, 0)] == reference
    assert all(result == reference for result in results.values())
    (first, second), customer = reference
    assert customer == ("Ada King", "ada@example.com", True, 3)
    assert (first["status"], first["total"], first["order_version"]) == (
        "cancelled",
        Decimal("19.98"),
        2,
    )
    assert (second["status"], second["placed_at"]) == ("placed", at(3))
    for view in (first, second):
        assert (view["customer_name"], view["customer_deleted"]) == ("Ada King", True)


def test_a_duplicate_delivery_changes_nothing():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    events = [
        registered(customer_id),
        placed(order_id, customer_id),
        renamed(customer_id, "Ada King", version=2),
        cancelled(order_id, customer_id),
    ]
    project(*events)
    view_before = row_state(OrderView.objects.get(order_id=order_id))
    customer_before = row_state(OrderViewCustomer.objects.get(customer_id=customer_id))

    assert project(*events) == [Outcome.DUPLICATE] * 4

    assert row_state(OrderView.objects.get(order_id=order_id)) == view_before
    assert (
        row_state(OrderViewCustomer.objects.get(customer_id=customer_id))
        == customer_before
    )


def test_every_row_records_the_last_event_applied_to_it():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    registration = registered(customer_id, minutes=0)
    placement = placed(order_id, customer_id, minutes=4)
    cancellation = cancelled(order_id, customer_id, minutes=8)
    before = timezone.now()

    project(registration, placement)
    view_after_placement = OrderView.objects.get(order_id=order_id)
    project(cancellation)

    view = OrderView.objects.get(order_id=order_id)
    customer = OrderViewCustomer.objects.get(customer_id=customer_id)
    assert (
        view_after_placement.last_event_id,
        view_after_placement.last_event_type,
        view_after_placement.last_event_occurred_at,
    ) == (placement.event_id, "OrderPlaced", at(4))
    assert (view.last_event_id, view.last_event_type) == (
        cancellation.event_id,
        "OrderCancelled",
    )
    assert view.last_event_occurred_at == at(8)
    assert (customer.last_event_id, customer.last_event_type) == (
        registration.event_id,
        "CustomerRegistered",
    )
    assert customer.last_event_occurred_at == at(0)
    for row in (view, customer):
        assert before <= row.projected_at <= timezone.now()


def test_a_customer_known_only_from_an_order_records_that_order_as_its_last_event():
    customer_id = uuid.uuid4()
    placement = placed(uuid.uuid4(), customer_id, minutes=4)

    project(placement)

    customer = OrderViewCustomer.objects.get(customer_id=customer_id)
    assert (customer.customer_version, customer.name) == (0, "")
    assert (customer.last_event_id, customer.last_event_occurred_at) == (
        placement.event_id,
        at(4),
    )


def test_query_code_cannot_write_a_read_model():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    project(registered(customer_id), placed(order_id, customer_id))
    view = OrderView.objects.get(order_id=order_id)

    view.status = "cancelled"
    with pytest.raises(ReadModelWriteRefused):
        view.save()
    with pytest.raises(ReadModelWriteRefused):
        OrderView.objects.filter(customer_id=customer_id).update(customer_name="X")
    with pytest.raises(ReadModelWriteRefused):
        OrderViewCustomer.objects.filter(customer_id=customer_id).delete()

    assert view_of(order_id)["status"] == "placed"
