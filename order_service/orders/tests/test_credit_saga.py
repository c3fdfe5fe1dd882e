"""The credit rule, both ways the order service can hold it.

Under approaches 1 to 3 the order service checks the limit, then places the
order APPROVED (``CheckThenPlace``). Under 4 and 5 it places the order
PENDING and the customer service's answer, an event, approves or rejects it
(``CreditSaga``): the handlers here apply that answer once, and only to an
order still pending.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from order_service import bootstrap
from order_service.orders.credit import CheckThenPlace, CreditSaga, credit_check_hold
from order_service.orders.handlers import EVENT_HANDLERS
from order_service.orders.models import Order, OrderStatus
from order_service.orders.services import LineRequest, order_cancel, order_place
from order_service.orders.tests.consumer_support import CONSUMER_NAME, customer_event
from shared_events.approaches import Approach
from shared_events.consume import Outcome, apply_event
from shared_events.errors import ApplicationError
from shared_events.events import EventType
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db


def books(quantity: int, price: str = "10.00") -> list[LineRequest]:
    return [LineRequest(sku="BOOK-1", quantity=quantity, unit_price=Decimal(price))]


def history(order_id) -> list[str]:
    return list(
        StoredEvent.objects.filter(aggregate_id=order_id)
        .order_by("aggregate_version")
        .values_list("event_type", flat=True)
    )


def test_each_approach_gets_the_credit_rule_of_its_design():
    for approach in Approach:
        rule = bootstrap.build_wiring(approach).credit_rule
        saga = approach in (Approach.EVENT_SOURCING, Approach.CQRS_ES)
        assert isinstance(rule, CreditSaga if saga else CheckThenPlace), approach


def test_the_lab_can_hold_the_check_open_where_the_order_service_checks(settings):
    settings.FAULT_INJECTION = "slow_credit_check:300"

    checked = bootstrap.build_wiring(Approach.DB_PER_SERVICE).credit_rule
    saga = bootstrap.build_wiring(Approach.CQRS_ES).credit_rule

    assert checked.hold_seconds == pytest.approx(0.3)
    assert isinstance(saga, CreditSaga)  # nothing to hold: nobody checks here


@pytest.mark.parametrize("value", ["slow_credit_check", "slow_credit_check:-5"])
def test_a_malformed_hold_names_the_form_it_takes(value):
    with pytest.raises(ValueError, match=r"slow_credit_check:<ms>, a positive"):
        credit_check_hold(value)


def test_other_faults_hold_nothing():
    assert credit_check_hold("slow_responses:800") == 0
    assert credit_check_hold("") == 0


# Check, then place (approaches 1 to 3)
# ------------------------------------------------------------------------------


def test_an_order_within_the_limit_is_approved_at_once(ada, settings):
    settings.CREDIT_LIMIT = Decimal("100.00")

    order = order_place(customer_id=ada.id, lines=books(10)).order

    assert (order.status, order.version) == (OrderStatus.APPROVED, 2)


def test_an_order_over_what_is_left_is_refused_naming_the_numbers(ada, settings):
    settings.CREDIT_LIMIT = Decimal("100.00")
    order_place(customer_id=ada.id, lines=books(7))

    with pytest.raises(ApplicationError) as refused:
        order_place(customer_id=ada.id, lines=books(4))

    assert refused.value.field == "lines"
    assert refused.value.message == (
        "the order total 40.00 exceeds the credit this customer has left "
        "(30.00 of 100.00)"
    )
    assert Order.objects.count() == 1


def test_a_cancelled_order_gives_its_credit_back(ada, settings):
    settings.CREDIT_LIMIT = Decimal("100.00")
    first = order_place(customer_id=ada.id, lines=books(10)).order
    order_cancel(order=first)

    second = order_place(customer_id=ada.id, lines=books(10)).order

    assert second.status == OrderStatus.APPROVED


def test_the_limit_the_customer_service_names_wins_over_the_setting(ada, settings):
    settings.CREDIT_LIMIT = Decimal("1000.00")
    snapshot = CheckThenPlace()
    tight = type(ada)(
        id=ada.id, name=ada.name, email=ada.email, credit_limit=Decimal(5)
    )

    assert snapshot.refusal(customer=tight, total=Decimal("6")) is not None
    assert snapshot.refusal(customer=ada, total=Decimal("6")) is None


def test_a_refused_placement_is_recorded_under_event_sourcing(
    ada, event_sourcing, settings
):
    settings.CREDIT_LIMIT = Decimal("5.00")
    checked = bootstrap.overridden(credit_rule=CheckThenPlace())
    with checked, pytest.raises(ApplicationError):
        order_place(customer_id=ada.id, lines=books(1))

    rejected = StoredEvent.objects.get()
    assert (rejected.event_type, rejected.payload["reason"]) == (
        EventType.ORDER_REJECTED,
        "credit_limit_exceeded",
    )
    assert not Order.objects.exists()


# The saga (approaches 4 and 5)
# ------------------------------------------------------------------------------


def answer(event_type: str, order: Order, *, version: int) -> Outcome:
    """The customer service's answer to ``order``, applied by the consumer."""
    envelope = customer_event(
        event_type,
        customer_id=order.customer_id,
        version=version,
        order_id=str(order.id),
        amount=f"{order.total:.2f}",
        **({"available": "0.00"} if event_type == "CreditLimitExceeded" else {}),
    )
    return apply_event(
        consumer=CONSUMER_NAME,
        envelope=envelope,
        handlers=EVENT_HANDLERS[event_type],
    )


@pytest.fixture
def pending(ada, event_sourcing) -> Order:
    # Placed before any answer; no limit is checked here, whatever it is.
    return order_place(customer_id=ada.id, lines=books(10_000)).order


def test_under_the_saga_an_order_is_placed_pending(pending):
    assert (pending.status, pending.version) == (OrderStatus.PENDING, 1)
    assert history(pending.id) == [EventType.ORDER_PLACED]


def test_credit_reserved_approves_the_pending_order(pending):
    assert answer("CreditReserved", pending, version=1) is Outcome.APPLIED

    pending.refresh_from_db()
    assert (pending.status, pending.version) == (OrderStatus.APPROVED, 2)
    assert history(pending.id) == [EventType.ORDER_PLACED, EventType.ORDER_APPROVED]
    approval = StoredEvent.objects.get(aggregate_id=pending.id, aggregate_version=2)
    assert approval.metadata["causation_id"] is not None  # the customer's answer


def test_credit_limit_exceeded_rejects_the_order_and_keeps_its_row(pending):
    answer("CreditLimitExceeded", pending, version=1)

    pending.refresh_from_db()
    assert (pending.status, pending.version) == (OrderStatus.REJECTED, 2)
    rejection = StoredEvent.objects.get(aggregate_id=pending.id, aggregate_version=2)
    assert rejection.payload["reason"] == "credit_limit_exceeded"
    with pytest.raises(ApplicationError, match="a rejected order cannot be cancelled"):
        order_cancel(order=pending)


def test_an_answer_to_an_order_cancelled_meanwhile_changes_nothing(pending):
    order_cancel(order=pending)

    answer("CreditReserved", pending, version=1)

    pending.refresh_from_db()
    assert (pending.status, pending.version) == (OrderStatus.CANCELLED, 2)
    assert history(pending.id) == [EventType.ORDER_PLACED, EventType.ORDER_CANCELLED]


def test_a_redelivered_answer_is_a_duplicate(pending):
    answer("CreditReserved", pending, version=1)
    assert answer("CreditReserved", pending, version=1) is Outcome.DUPLICATE

    assert history(pending.id) == [EventType.ORDER_PLACED, EventType.ORDER_APPROVED]
