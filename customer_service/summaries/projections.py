"""Projections: how customer and order events build the CustomerSummary read model.

Each handler is a fold (``shared_events.read_side.projectors``): one event, the rows it
touches, found through ``rows``. The read-side consumer (``consume_events
--side read``) runs it through ``apply_event``, one event per transaction in
the read database; ``rebuild_read_models`` runs the very same functions over
a chunk of events in memory, then writes the chunk's rows in one go.

What a learner should notice: the consumer keeps each aggregate's events in
version order, but events of *different* aggregates arrive in any order. An
OrderPlaced may be projected before its customer's CustomerRegistered, so no
handler assumes the customer's row exists; each one creates the row it needs
(empty) and fills in its own part. Whatever the interleaving, the same events
leave the same rows.

Every row written records the last event applied to it and when it was
projected: the query API shows both, so staleness is visible, not hidden.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import UUID

from customer_service.summaries.models import CustomerSummary, SummaryOrder
from service_kit.read_models import customer_changes, save_stamped, stamp
from shared_events.events import EventEnvelope, EventType, OpeningEventType
from shared_events.read_side import Projector, ReadModelRows

logger = logging.getLogger(__name__)

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"


def _locked_summary(
    rows: ReadModelRows, customer_id: UUID, envelope: EventEnvelope
) -> CustomerSummary:
    """The customer's summary, created empty if no event made it yet, row-locked.

    Insert-if-missing, then lock: a customer event and an order event for the
    same customer, projected by two consumer processes at once, take turns on
    this row instead of overwriting each other's changes.
    """
    return rows.locked(CustomerSummary, customer_id, **stamp(envelope))


# Customer events: the customer's own fields
# ------------------------------------------------------------------------------


def _apply_customer_event(
    envelope: EventEnvelope, rows: ReadModelRows, **fields
) -> None:
    summary = _locked_summary(rows, UUID(envelope.payload["customer_id"]), envelope)
    if envelope.aggregate_version <= summary.customer_version:
        return  # already projected (a replay): one customer's events come in order
    save_stamped(
        rows, summary, envelope, customer_version=envelope.aggregate_version, **fields
    )


def summary_register(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    _apply_customer_event(envelope, rows, registered=True, **customer_changes(envelope))


def summary_change_customer(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    # A deletion too: the row stays, as a deleted customer's orders and
    # lifetime value are history.
    _apply_customer_event(envelope, rows, **customer_changes(envelope))


# Order events: what the customer's orders add up to
# ------------------------------------------------------------------------------


def summary_count_placed_order(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    payload = envelope.payload
    customer_id = UUID(payload["customer_id"])
    total = Decimal(payload["total"])
    summary = _locked_summary(rows, customer_id, envelope)
    _, created = rows.get_or_create(
        SummaryOrder,
        UUID(payload["order_id"]),
        customer_id=customer_id,
        total=total,
        status=PENDING,
        **stamp(envelope),
    )
    if not created:
        return  # already counted (a replay)
    last_order_at = summary.last_order_at
    save_stamped(
        rows,
        summary,
        envelope,
        order_count=summary.order_count + 1,
        open_order_count=summary.open_order_count + 1,
        lifetime_value=summary.lifetime_value + total,
        last_order_at=(
            envelope.occurred_at
            if last_order_at is None
            else max(last_order_at, envelope.occurred_at)
        ),
    )


def summary_count_imported_order(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    """An order from before events (``OrderImported``), counted as it stood:
    open ones in the open count and the lifetime value, closed ones in
    neither, as if their placement and closing had been projected. Its
    ``last_order_at`` is the import's time: the placement's is not known."""
    payload = envelope.payload
    customer_id = UUID(payload["customer_id"])
    total = Decimal(payload["total"])
    status = payload["status"]
    summary = _locked_summary(rows, customer_id, envelope)
    _, created = rows.get_or_create(
        SummaryOrder,
        UUID(payload["order_id"]),
        customer_id=customer_id,
        total=total,
        status=status,
        **stamp(envelope),
    )
    if not created:
        return  # already counted (a replay)
    still_open = status in (PENDING, APPROVED)
    last_order_at = summary.last_order_at
    save_stamped(
        rows,
        summary,
        envelope,
        order_count=summary.order_count + 1,
        open_order_count=summary.open_order_count + int(still_open),
        lifetime_value=summary.lifetime_value + (total if still_open else 0),
        last_order_at=(
            envelope.occurred_at
            if last_order_at is None
            else max(last_order_at, envelope.occurred_at)
        ),
    )


def summary_approve_order(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    order = rows.get(SummaryOrder, UUID(envelope.payload["order_id"]))
    if order is not None and order.status == PENDING:
        save_stamped(rows, order, envelope, status=APPROVED)


def summary_uncount_cancelled_order(
    envelope: EventEnvelope, rows: ReadModelRows
) -> None:
    """Take a cancelled order out of the open count and the lifetime value."""
    _uncount_order(envelope, rows, status=CANCELLED)


def summary_uncount_rejected_order(
    envelope: EventEnvelope, rows: ReadModelRows
) -> None:
    """Take an order the credit rule rejected out, as a cancelled one.

    A placement refused outright was never counted: it has no row here.
    """
    _uncount_order(envelope, rows, status=REJECTED)


def _uncount_order(envelope: EventEnvelope, rows: ReadModelRows, *, status: str):
    """Take an order out of the open count and the lifetime value.

    OrderCancelled and OrderRejected do not carry the total; the SummaryOrder
    row that OrderPlaced left does. One order's events come in version order,
    so the row is there unless the read model missed the placement
    altogether; then the order was never counted and there is nothing to
    take back.
    """
    order_id = UUID(envelope.payload["order_id"])
    order = rows.get(SummaryOrder, order_id)
    if order is None:
        if status == CANCELLED:
            logger.warning(
                "OrderCancelled %s: order %s never projected",
                envelope.event_id,
                order_id,
            )
        return
    if order.status in (CANCELLED, REJECTED):
        return  # already taken out (a replay)
    summary = _locked_summary(rows, order.customer_id, envelope)
    save_stamped(rows, order, envelope, status=status)
    save_stamped(
        rows,
        summary,
        envelope,
        open_order_count=max(summary.open_order_count - 1, 0),
        lifetime_value=summary.lifetime_value - order.total,
    )


# The rows each kind of event reads, for the rebuild to load a chunk's at once.
CUSTOMER_ROWS = ((CustomerSummary, "customer_id"),)
ORDER_ROWS = ((CustomerSummary, "customer_id"), (SummaryOrder, "order_id"))


def _customer(fold) -> Projector:
    return Projector(fold, reads=CUSTOMER_ROWS)


def _order(fold) -> Projector:
    return Projector(fold, reads=ORDER_ROWS)


PROJECTION_HANDLERS: dict[str, list[Projector]] = {
    EventType.CUSTOMER_REGISTERED: [_customer(summary_register)],
    EventType.CUSTOMER_RENAMED: [_customer(summary_change_customer)],
    EventType.CUSTOMER_EMAIL_CHANGED: [_customer(summary_change_customer)],
    EventType.CUSTOMER_ADDRESS_CHANGED: [_customer(summary_change_customer)],
    EventType.CUSTOMER_DELETED: [_customer(summary_change_customer)],
    # A refused deletion changes nothing the summary shows, nor does the
    # customer's side of the credit saga (the order's own events do).
    EventType.CUSTOMER_DELETION_REJECTED: [],
    EventType.CREDIT_RESERVED: [],
    EventType.CREDIT_LIMIT_EXCEEDED: [],
    EventType.CREDIT_RELEASED: [],
    EventType.ORDER_PLACED: [_order(summary_count_placed_order)],
    EventType.ORDER_APPROVED: [_order(summary_approve_order)],
    EventType.ORDER_CANCELLED: [_order(summary_uncount_cancelled_order)],
    EventType.ORDER_REJECTED: [_order(summary_uncount_rejected_order)],
    # The opening events of a migrated platform (strangler.introduce_events):
    # never published, folded when the read models are rebuilt from the store.
    OpeningEventType.CUSTOMER_IMPORTED: [_customer(summary_register)],
    OpeningEventType.ORDER_IMPORTED: [_order(summary_count_imported_order)],
}
