"""Branches of the order services that the API tests cannot reach."""

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from order_service import bootstrap
from order_service.orders.customers import ReplicaCustomerDirectory
from order_service.orders.models import Order, OrderLine, OrderStatus
from order_service.orders.selectors import order_customers
from order_service.orders.services import LineRequest, order_cancel, order_place
from shared_events.errors import ApplicationError


def book(**overrides) -> LineRequest:
    values = {"sku": "BOOK-1", "quantity": 1, "unit_price": Decimal("10.00")}
    return LineRequest(**{**values, **overrides})


@pytest.mark.django_db
def test_place_refuses_an_order_without_lines(ada):
    with pytest.raises(ApplicationError) as refused:
        order_place(customer_id=ada.id, lines=[])

    assert refused.value.field == "lines"
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_line",
    [
        book(quantity=-1),
        book(quantity=0),
        book(unit_price=Decimal("-0.01")),
    ],
    ids=["negative quantity", "zero quantity", "negative price"],
)
def test_the_database_refuses_a_line_that_bypassed_the_serializer(ada, bad_line):
    with pytest.raises(IntegrityError):
        order_place(customer_id=ada.id, lines=[book(), bad_line])

    # The order and its good line rolled back with the refused one.
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_negative_total():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(customer_id=uuid.uuid4(), total=Decimal("-1"))


@pytest.mark.django_db
def test_a_total_too_large_is_refused_before_asking_for_the_customer(
    ada, customer_directory
):
    customer_directory.unavailable = True
    line = book(quantity=1_000_000, unit_price=Decimal("1000000.00"))

    with pytest.raises(ApplicationError) as refused:
        order_place(customer_id=ada.id, lines=[line])

    assert refused.value.field == "lines"


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_customer_is_checked(ada, customer_directory):
    seen = []
    original_get = customer_directory.get

    def get(customer_id):
        seen.append(transaction.get_connection().in_atomic_block)
        return original_get(customer_id)

    customer_directory.get = get

    order_place(customer_id=ada.id, lines=[book()])

    assert seen == [False]


@pytest.mark.django_db
def test_cancel_refuses_an_order_cancelled_since_it_was_read(ada):
    order = order_place(customer_id=ada.id, lines=[book()]).order
    stale = Order.objects.get(id=order.id)
    order_cancel(order=order)

    with pytest.raises(ApplicationError) as refused:
        order_cancel(order=stale)

    assert refused.value.field == "status"
    assert Order.objects.get(id=order.id).status == OrderStatus.CANCELLED


def test_order_customers_of_no_orders_asks_nobody(customer_directory):
    customer_directory.unavailable = True
    asked = []
    customer_directory.get_many = asked.append

    assert order_customers(orders=[]) == {}
    assert asked == []


@pytest.mark.django_db
def test_a_customer_not_in_the_replica_yet_is_refused_saying_why():
    """Approaches 3 to 5: the replica may lag a registration by a moment."""
    unknown = uuid.uuid4()

    with (
        bootstrap.overridden(customer_directory=ReplicaCustomerDirectory()),
        pytest.raises(ApplicationError) as refused,
    ):
        order_place(customer_id=unknown, lines=[book()])

    assert refused.value.field == "customer_id"
    assert refused.value.message.startswith(f"no customer with id {unknown} (")
    assert "may not have arrived yet" in refused.value.message
