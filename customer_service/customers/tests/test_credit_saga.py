"""The customer service's side of the credit saga: one answer per order.

The customer service answers each order placed with ``CreditReserved`` or
``CreditLimitExceeded`` and gives a cancelled order's credit back
(``CreditReleased``). The reservations live in the Customer aggregate, so a
redelivered order is never answered twice, and the history shows each step.
"""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse

from customer_service import bootstrap
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.handlers import EVENT_HANDLERS
from customer_service.customers.services import (
    customer_credit_release,
    customer_credit_reserve,
    customer_delete,
    customer_register,
)
from shared_events.approaches import Approach
from shared_events.events import EventType
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db


def events_of(customer_id) -> list[tuple[str, dict]]:
    return [
        (event.event_type, event.payload)
        for event in StoredEvent.objects.filter(aggregate_id=customer_id).order_by(
            "aggregate_version"
        )
    ]


# The aggregate
# ------------------------------------------------------------------------------


def registered() -> CustomerAggregate:
    customer = CustomerAggregate.register(
        customer_id=uuid.uuid4(), name="Ada", email="ada@example.com", address="London"
    )
    customer.collect_pending()
    return customer


def test_credit_within_the_limit_is_reserved_and_over_it_refused():
    customer = registered()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    customer.reserve_credit(order_id=first, amount=Decimal("60"), limit=Decimal("100"))
    customer.reserve_credit(order_id=second, amount=Decimal("50"), limit=Decimal("100"))
    customer.reserve_credit(order_id=third, amount=Decimal("40"), limit=Decimal("100"))

    assert [(e.event_type, e.payload) for e in customer.collect_pending()] == [
        (
            "CreditReserved",
            {
                "customer_id": str(customer.id),
                "order_id": str(first),
                "amount": "60.00",
            },
        ),
        (
            "CreditLimitExceeded",
            {
                "customer_id": str(customer.id),
                "order_id": str(second),
                "amount": "50.00",
                "available": "40.00",
            },
        ),
        (
            "CreditReserved",
            {
                "customer_id": str(customer.id),
                "order_id": str(third),
                "amount": "40.00",
            },
        ),
    ]
    assert customer.credit_reserved == Decimal("100")


def test_an_order_is_answered_once_and_only_a_reservation_is_released():
    customer = registered()
    kept, refused = uuid.uuid4(), uuid.uuid4()
    customer.reserve_credit(order_id=kept, amount=Decimal("10"), limit=Decimal("10"))
    customer.reserve_credit(order_id=refused, amount=Decimal("5"), limit=Decimal("10"))
    customer.collect_pending()

    # The same orders again: already answered, whatever the limit says now.
    customer.reserve_credit(order_id=kept, amount=Decimal("10"), limit=Decimal("0"))
    customer.reserve_credit(order_id=refused, amount=Decimal("5"), limit=Decimal("99"))
    customer.release_credit(order_id=refused)
    assert customer.collect_pending() == []

    customer.release_credit(order_id=kept)
    customer.release_credit(order_id=kept)
    assert [e.event_type for e in customer.collect_pending()] == ["CreditReleased"]
    assert customer.credit_reserved == Decimal("0")


def test_the_fold_of_the_credit_events_is_the_state_the_commands_left():
    customer = CustomerAggregate.register(
        customer_id=uuid.uuid4(), name="Ada", email="ada@example.com", address="London"
    )
    kept, refused = uuid.uuid4(), uuid.uuid4()
    customer.reserve_credit(order_id=kept, amount=Decimal("7.5"), limit=Decimal("10"))
    customer.reserve_credit(order_id=refused, amount=Decimal("3"), limit=Decimal("10"))

    folded = CustomerAggregate.fold(customer.id, customer.collect_pending())

    assert folded.reservations == {str(kept): Decimal("7.50")}
    assert folded.credit_decided == {str(kept), str(refused)}
    assert folded.version == 3


# The services, under event sourcing (the only approaches that run the saga)
# ------------------------------------------------------------------------------


def test_the_saga_is_wired_only_where_orders_are_event_sourced():
    for approach in Approach:
        handlers = bootstrap.build_wiring(approach).event_handlers
        expected = approach in (Approach.EVENT_SOURCING, Approach.CQRS_ES)
        assert (handlers == EVENT_HANDLERS) is expected, approach


def test_reserve_and_release_record_events_in_the_customers_history(
    event_sourcing, settings
):
    settings.CREDIT_LIMIT = Decimal("100.00")
    ada = customer_register(name="Ada", email="ada@example.com", address="London")
    first, second = uuid.uuid4(), uuid.uuid4()

    customer_credit_reserve(customer_id=ada.id, order_id=first, amount=Decimal("80"))
    customer_credit_reserve(customer_id=ada.id, order_id=second, amount=Decimal("30"))
    customer_credit_reserve(customer_id=ada.id, order_id=first, amount=Decimal("80"))
    customer_credit_release(customer_id=ada.id, order_id=first)
    customer_credit_release(customer_id=ada.id, order_id=second)

    assert [event_type for event_type, _ in events_of(ada.id)] == [
        EventType.CUSTOMER_REGISTERED,
        EventType.CREDIT_RESERVED,
        EventType.CREDIT_LIMIT_EXCEEDED,
        EventType.CREDIT_RELEASED,
    ]
    ada.refresh_from_db()
    assert ada.version == 4  # the state row follows the events


def test_an_order_of_a_deleted_customer_gets_no_answer(event_sourcing):
    ada = customer_register(name="Ada", email="ada@example.com", address="London")
    customer_delete(customer=ada)

    customer_credit_reserve(
        customer_id=ada.id, order_id=uuid.uuid4(), amount=Decimal("1")
    )

    # The order service cancels the deleted customer's open orders itself.
    assert [event_type for event_type, _ in events_of(ada.id)] == [
        EventType.CUSTOMER_REGISTERED,
        EventType.CUSTOMER_DELETED,
    ]


# Failures are events too: a deletion refused while orders hold credit
# ------------------------------------------------------------------------------


def delete_url(customer_id) -> str:
    return reverse("customer-delete", args=[customer_id])


@pytest.fixture
def ada_with_an_open_order(event_sourcing):
    ada = customer_register(name="Ada", email="ada@example.com", address="London")
    customer_credit_reserve(
        customer_id=ada.id, order_id=uuid.uuid4(), amount=Decimal("10")
    )
    return ada


def test_deleting_a_customer_with_open_orders_is_refused_and_recorded(
    api_client, ada_with_an_open_order
):
    ada = ada_with_an_open_order

    response = api_client.post(delete_url(ada.id), {}, format="json")

    assert response.status_code == 409
    reason = (
        "1 open order holds 10.00 of credit: cancel them first, or delete with "
        "open_orders=cancel"
    )
    assert response.json() == {"detail": f"the customer was not deleted: {reason}"}
    assert events_of(ada.id)[-1] == (
        EventType.CUSTOMER_DELETION_REJECTED,
        {"customer_id": str(ada.id), "reason": reason},
    )
    ada.refresh_from_db()  # still there, one version on
    assert ada.version == 3


def test_asked_to_cancel_them_the_customer_is_deleted(
    api_client, ada_with_an_open_order
):
    ada = ada_with_an_open_order

    response = api_client.post(
        delete_url(ada.id), {"open_orders": "cancel"}, format="json"
    )

    assert response.status_code == 204
    assert events_of(ada.id)[-1][0] == EventType.CUSTOMER_DELETED


def test_a_customer_without_open_orders_is_deleted_at_once(api_client, event_sourcing):
    ada = customer_register(name="Ada", email="ada@example.com", address="London")

    assert api_client.post(delete_url(ada.id), {}, format="json").status_code == 204


def test_an_unknown_open_orders_choice_is_a_400_naming_it(
    api_client, ada_with_an_open_order
):
    response = api_client.post(
        delete_url(ada_with_an_open_order.id), {"open_orders": "ignore"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["open_orders"]
    assert events_of(ada_with_an_open_order.id)[-1][0] == EventType.CREDIT_RESERVED


@pytest.mark.django_db(transaction=True)
def test_a_command_waits_for_the_sagas_answer_instead_of_failing(event_sourcing):
    """The consumer answering an order and a client deleting the customer at
    the same moment: the deletion waits for the answer's commit, then goes
    on from it (no 409 for a conflict the client did not make)."""
    ada = customer_register(name="Ada", email="ada@example.com", address="London")
    answering, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def answer() -> None:
        try:
            with transaction.atomic():
                customer_credit_reserve(
                    customer_id=ada.id, order_id=uuid.uuid4(), amount=Decimal("1")
                )
                answering.set()
                release.wait(10)
        finally:
            connection.close()

    def delete() -> None:
        try:
            customer_delete(customer=ada, cancel_open_orders=True)
            outcome["deleted"] = True
        except Exception as error:  # noqa: BLE001 (the outcome is the assertion)
            outcome["error"] = error
        finally:
            connection.close()

    answerer = threading.Thread(target=answer)
    answerer.start()
    assert answering.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    deleter.join(0.5)
    waited = deleter.is_alive()
    release.set()
    answerer.join(10)
    deleter.join(10)

    assert waited  # on the customer's row, held by the answer
    assert outcome == {"deleted": True}
    assert [event_type for event_type, _ in events_of(ada.id)] == [
        EventType.CUSTOMER_REGISTERED,
        EventType.CREDIT_RESERVED,
        EventType.CUSTOMER_DELETED,
    ]
