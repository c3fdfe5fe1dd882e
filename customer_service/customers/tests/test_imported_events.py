"""A customer migrated from db_per_service: its history opens with
``CustomerImported`` (``strangler.introduce_events``). No database needed.

A learner should see that the aggregate folds the snapshot to the state it
was imported with, credit held by open orders included, and goes on from
version 1 as if it had been registered.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from customer_service.customers.domain import CustomerAggregate
from shared_events.write_side import RecordedEvent

CUSTOMER_ID = uuid.uuid4()
ORDER_ID = str(uuid.uuid4())


def imported(**reservations: str) -> CustomerAggregate:
    return CustomerAggregate.fold(
        CUSTOMER_ID,
        [
            RecordedEvent(
                event_type="CustomerImported",
                payload={
                    "customer_id": str(CUSTOMER_ID),
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "address": "12 St James's Square",
                    "reservations": {ORDER_ID: "30.00", **reservations},
                },
                aggregate_version=1,
            )
        ],
    )


def test_an_imported_customer_folds_to_its_snapshot():
    customer = imported()
    assert (customer.name, customer.email, customer.address) == (
        "Ada Lovelace",
        "ada@example.com",
        "12 St James's Square",
    )
    assert (customer.version, customer.deleted) == (1, False)
    assert customer.reservations == {ORDER_ID: Decimal("30.00")}
    assert customer.credit_reserved == Decimal("30.00")


def test_its_next_event_is_version_two():
    customer = imported()
    customer.change(address="3 Event Street")
    (event,) = customer.collect_pending()
    assert (event.event_type, event.aggregate_version) == ("CustomerAddressChanged", 2)


def test_the_credit_its_open_orders_held_still_counts():
    customer = imported()
    customer.reserve_credit(
        order_id=uuid.uuid4(), amount=Decimal("80"), limit=Decimal("100")
    )
    assert customer.collect_pending()[0].event_type == "CreditLimitExceeded"
    # An imported order already answered is not answered again.
    customer.reserve_credit(
        order_id=uuid.UUID(ORDER_ID), amount=Decimal("1"), limit=Decimal("100")
    )
    assert customer.collect_pending() == []
    # Its deletion is refused while that order holds credit.
    assert customer.delete() is False


def test_an_imported_order_cancelled_later_gives_its_credit_back():
    customer = imported()
    customer.release_credit(order_id=uuid.UUID(ORDER_ID))
    (event,) = customer.collect_pending()
    assert (event.event_type, event.payload["amount"]) == ("CreditReleased", "30.00")
    assert customer.reservations == {}
