"""The OrderView projection, fed through the read-side consumer's core.

What a learner should see proven:

* one customer event updates every OrderView row of that customer (the price
  of copying the customer's details into each order);
* events of different aggregates give the same rows in any order: an order
  projected before its customer's registration included; a duplicate
  delivery changes nothing (``shared_events.testing.projection_contract``,
  subclassed below);
* every row records the last event applied to it;
* outside a projection, nothing may write a read model.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from order_service.order_views.models import OrderView, OrderViewCustomer
from order_service.order_views.projections import PROJECTION_HANDLERS
from order_service.order_views.tests.projection_support import CONSUMER, project
from shared_events.consume import Outcome
from shared_events.read_side import ReadModelWriteRefused
from shared_events.testing import projection_events as event
from shared_events.testing.projection_contract import (
    ProjectionContract,
    last_event_of,
    projected_columns,
)
from shared_events.testing.projection_events import at

pytestmark = pytest.mark.django_db(databases=["default", "read"])


def view_of(order_id: uuid.UUID) -> dict:
    view = OrderView.objects.get(order_id=order_id)
    # not the customer's id: each run of a story has a new one
    return projected_columns(view, leave_out=["customer_id"])


def customer_columns(customer_id: uuid.UUID) -> set[tuple]:
    return set(
        OrderView.objects.filter(customer_id=customer_id).values_list(
            "customer_name", "customer_email", "customer_address", "customer_deleted"
        )
    )


def test_a_placed_order_becomes_a_row_with_its_customer_copied_in():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    project(event.registered(customer_id))

    project(
        event.placed(
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
        "status": "pending",
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
        event.placed(order_id, customer_id),
        event.cancelled(order_id, customer_id, reason="customer_deleted", minutes=7),
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

    assert project(event.rejected(order_id, customer_id)) == [Outcome.APPLIED]

    assert not OrderView.objects.filter(order_id=order_id).exists()


def test_renaming_a_customer_updates_every_order_of_that_customer():
    customer_id, other_customer = uuid.uuid4(), uuid.uuid4()
    orders = [uuid.uuid4() for _ in range(3)]
    project(
        event.registered(customer_id),
        event.registered(
            other_customer, name="Grace Hopper", email="grace@example.com"
        ),
        *(event.placed(order_id, customer_id) for order_id in orders),
        event.placed(uuid.uuid4(), other_customer),
    )

    rename = event.renamed(customer_id, "Ada King", version=2, minutes=5)
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
        event.registered(customer_id),
        event.placed(uuid.uuid4(), customer_id),
        event.placed(uuid.uuid4(), customer_id),
        event.email_changed(customer_id, "ada@king.example", version=2),
        event.address_changed(customer_id, "Ockham Park, Surrey", version=3),
    )

    assert customer_columns(customer_id) == {
        ("Ada Lovelace", "ada@king.example", "Ockham Park, Surrey", False)
    }


def test_deleting_a_customer_marks_every_order_of_theirs():
    customer_id = uuid.uuid4()
    orders = [uuid.uuid4(), uuid.uuid4()]
    project(
        event.registered(customer_id),
        *(event.placed(order_id, customer_id) for order_id in orders),
        event.deleted(customer_id, version=2),
    )

    assert {view_of(order_id)["customer_deleted"] for order_id in orders} == {True}
    assert OrderViewCustomer.objects.get(customer_id=customer_id).deleted is True
    # the orders stay: cancelling them is the order service's own event
    assert {view_of(order_id)["status"] for order_id in orders} == {"pending"}


def test_an_order_before_the_registration_gets_the_customer_when_it_arrives():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    project(event.placed(order_id, customer_id))
    early = view_of(order_id)
    project(event.registered(customer_id))

    assert (early["customer_name"], early["customer_email"]) == ("", "")
    assert customer_columns(customer_id) == {
        ("Ada Lovelace", "ada@example.com", "12 St James's Square, London", False)
    }


class TestOrderViewProjection(ProjectionContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS

    def read_models_of(self, customer_id, orders) -> tuple[list, tuple]:
        customer = OrderViewCustomer.objects.get(customer_id=customer_id)
        return (
            [view_of(order_id) for order_id in orders],
            (
                customer.name,
                customer.email,
                customer.deleted,
                customer.customer_version,
            ),
        )

    def check_the_story(self, read_models) -> None:
        (first, second), customer = read_models
        assert customer == ("Ada King", "ada@example.com", True, 3)
        assert (first["status"], first["total"], first["order_version"]) == (
            "cancelled",
            Decimal("19.98"),
            2,
        )
        assert (second["status"], second["placed_at"]) == ("pending", at(3))
        for view in (first, second):
            assert (view["customer_name"], view["customer_deleted"]) == (
                "Ada King",
                True,
            )


def test_every_row_records_the_last_event_applied_to_it():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    registration = event.registered(customer_id, minutes=0)
    placement = event.placed(order_id, customer_id, minutes=4)
    cancellation = event.cancelled(order_id, customer_id, minutes=8)
    before = timezone.now()

    project(registration, placement)
    placed_view = OrderView.objects.get(order_id=order_id)
    project(cancellation)

    view = OrderView.objects.get(order_id=order_id)
    # The placement locked the customer's copy but wrote nothing to it.
    customer = OrderViewCustomer.objects.get(customer_id=customer_id)
    assert last_event_of(placed_view) == (placement.event_id, "OrderPlaced", at(4))
    assert last_event_of(view) == (cancellation.event_id, "OrderCancelled", at(8))
    assert last_event_of(customer) == (
        registration.event_id,
        "CustomerRegistered",
        at(0),
    )
    for row in (view, customer):
        assert before <= row.projected_at <= timezone.now()


def test_a_customer_known_only_from_an_order_records_that_order_as_its_last_event():
    customer_id = uuid.uuid4()
    placement = event.placed(uuid.uuid4(), customer_id, minutes=4)

    project(placement)

    customer = OrderViewCustomer.objects.get(customer_id=customer_id)
    assert (customer.customer_version, customer.name) == (0, "")
    assert (customer.last_event_id, customer.last_event_occurred_at) == (
        placement.event_id,
        at(4),
    )


def test_query_code_cannot_write_a_read_model():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    project(event.registered(customer_id), event.placed(order_id, customer_id))
    view = OrderView.objects.get(order_id=order_id)

    view.status = "cancelled"
    with pytest.raises(ReadModelWriteRefused):
        view.save()
    with pytest.raises(ReadModelWriteRefused):
        OrderView.objects.filter(customer_id=customer_id).update(customer_name="X")
    with pytest.raises(ReadModelWriteRefused):
        OrderViewCustomer.objects.filter(customer_id=customer_id).delete()

    assert view_of(order_id)["status"] == "pending"


def test_the_credit_sagas_answer_sets_the_orders_status():
    customer_id = uuid.uuid4()
    kept, refused = uuid.uuid4(), uuid.uuid4()
    project(
        event.registered(customer_id),
        event.placed(kept, customer_id),
        event.placed(refused, customer_id),
        event.approved(kept, customer_id),
        event.rejected_over_the_limit(refused, customer_id),
    )

    assert (view_of(kept)["status"], view_of(kept)["order_version"]) == ("approved", 2)
    assert (view_of(refused)["status"], view_of(refused)["order_version"]) == (
        "rejected",
        2,
    )
