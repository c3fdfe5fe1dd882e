"""Projections: how order and customer events build the OrderView read model.

Each handler is a fold (``shared_events.read_side.projectors``): one event, the rows it
touches, found through ``rows``. The read-side consumer (``consume_events
--side read``) runs it through ``apply_event``, one event per transaction in
the read database; ``rebuild_read_models`` runs the very same functions over
a chunk of events in memory, then writes the chunk's rows in one go.

What a learner should notice:

* Denormalizing has a price: the customer's name, email and address are
  copied into every OrderView row, so ONE customer event (CustomerRenamed)
  updates MANY rows. The query side pays at write time so that a query never
  joins across services.
* Events of different aggregates arrive in any order. An OrderPlaced may be
  projected before its customer's CustomerRegistered: the row starts without
  the customer's details, and the registration fills them in when it comes.
  OrderViewCustomer keeps what is known of each customer, so an order placed
  after the customer's events starts complete.
* Both kinds of event lock the customer's OrderViewCustomer row first. Two
  consumer processes projecting an OrderPlaced and a CustomerRenamed of the
  same customer at once take turns on it, so the new order cannot miss the
  new name.

Every row written records the last event applied to it and when it was
projected: the query API shows both, so staleness is visible, not hidden.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from order_service.order_views.models import OrderView, OrderViewCustomer
from service_kit.read_models import customer_changes, save_stamped, stamp
from shared_events.events import EventEnvelope, EventType, OpeningEventType
from shared_events.read_side import Projector, ReadModelRows

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
# What every OrderView row copies of its customer (``name`` as ``customer_name``).
COPIED_DETAILS = ("name", "email", "address", "deleted")


def _locked_customer(
    rows: ReadModelRows, customer_id: UUID, envelope: EventEnvelope
) -> OrderViewCustomer:
    """The read side's copy of the customer, created empty if unknown, row-locked."""
    return rows.locked(OrderViewCustomer, customer_id, **stamp(envelope))


def _order_columns(details: dict) -> dict:
    """A customer's details as the columns of their OrderView rows."""
    return {f"customer_{name}": value for name, value in details.items()}


# Order events: one OrderView row per order
# ------------------------------------------------------------------------------


def order_view_place(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    _order_view(envelope, rows, status=PENDING)


def order_view_import(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    """An order from before events (``OrderImported``), as it stood; its
    ``placed_at`` is the import's time: the placement's is not known."""
    _order_view(envelope, rows, status=envelope.payload["status"])


def _order_view(envelope: EventEnvelope, rows: ReadModelRows, *, status: str):
    payload = envelope.payload
    customer = _locked_customer(rows, UUID(payload["customer_id"]), envelope)
    rows.get_or_create(  # get: a replay leaves the row as it is
        OrderView,
        UUID(payload["order_id"]),
        order_version=envelope.aggregate_version,
        customer_id=customer.customer_id,
        **_order_columns({name: getattr(customer, name) for name in COPIED_DETAILS}),
        status=status,
        total=Decimal(payload["total"]),
        lines=[
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                "unit_price": str(line["unit_price"]),
            }
            for line in payload["lines"]
        ],
        placed_at=envelope.occurred_at,
        **stamp(envelope),
    )


def _set_order_status(envelope: EventEnvelope, rows: ReadModelRows, **fields):
    # One order's events come in version order: its OrderPlaced made the row
    # (a placement refused outright has none, and this changes nothing).
    rows.update(
        OrderView,
        "order_id",
        UUID(envelope.payload["order_id"]),
        order_version=envelope.aggregate_version,
        **fields,
        **stamp(envelope),
    )


def order_view_approve(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    _set_order_status(envelope, rows, status=APPROVED)


def order_view_reject(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    _set_order_status(envelope, rows, status=REJECTED)


def order_view_cancel(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    # One order's events come in version order: its OrderPlaced made the row.
    rows.update(
        OrderView,
        "order_id",
        UUID(envelope.payload["order_id"]),
        order_version=envelope.aggregate_version,
        status=CANCELLED,
        cancel_reason=envelope.payload["reason"],
        cancelled_at=envelope.occurred_at,
        **stamp(envelope),
    )


# Customer events: the customer's copy, and every order of theirs
# ------------------------------------------------------------------------------


def _apply_customer_event(
    envelope: EventEnvelope, rows: ReadModelRows, **fields
) -> None:
    """Update the customer's copy and the same fields on all of their orders."""
    customer = _locked_customer(rows, UUID(envelope.payload["customer_id"]), envelope)
    if envelope.aggregate_version <= customer.customer_version:
        return  # already projected (a replay): one customer's events come in order
    stamped = save_stamped(
        rows, customer, envelope, customer_version=envelope.aggregate_version, **fields
    )
    rows.update(
        OrderView,
        "customer_id",
        customer.customer_id,
        **_order_columns(fields),
        **stamped,
    )


def order_view_customer_register(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    _apply_customer_event(envelope, rows, deleted=False, **customer_changes(envelope))


def order_view_customer_change(envelope: EventEnvelope, rows: ReadModelRows) -> None:
    # A deletion too: the orders stay visible, marked; their cancellation is
    # the order service's own event (OrderCancelled, reason customer_deleted).
    _apply_customer_event(envelope, rows, **customer_changes(envelope))


# The rows each kind of event reads, for the rebuild to load a chunk's at once:
# a customer event reads the customer's copy and every order of theirs.
ORDER_ROWS = ((OrderViewCustomer, "customer_id"), (OrderView, "order_id"))
CUSTOMER_ROWS = ((OrderViewCustomer, "customer_id"), (OrderView, "customer_id"))


def _order(fold) -> Projector:
    return Projector(fold, reads=ORDER_ROWS)


def _customer(fold) -> Projector:
    return Projector(fold, reads=CUSTOMER_ROWS)


PROJECTION_HANDLERS: dict[str, list[Projector]] = {
    EventType.ORDER_PLACED: [_order(order_view_place)],
    EventType.ORDER_APPROVED: [_order(order_view_approve)],
    EventType.ORDER_CANCELLED: [_order(order_view_cancel)],
    # A placement refused outright has no OrderView row; one rejected by the
    # credit rule after it was placed shows "rejected".
    EventType.ORDER_REJECTED: [_order(order_view_reject)],
    EventType.CUSTOMER_REGISTERED: [_customer(order_view_customer_register)],
    EventType.CUSTOMER_RENAMED: [_customer(order_view_customer_change)],
    EventType.CUSTOMER_EMAIL_CHANGED: [_customer(order_view_customer_change)],
    EventType.CUSTOMER_ADDRESS_CHANGED: [_customer(order_view_customer_change)],
    EventType.CUSTOMER_DELETED: [_customer(order_view_customer_change)],
    # A refused deletion changes nothing an order shows, nor does the
    # customer's side of the credit saga (the order's own events do).
    EventType.CUSTOMER_DELETION_REJECTED: [],
    EventType.CREDIT_RESERVED: [],
    EventType.CREDIT_LIMIT_EXCEEDED: [],
    EventType.CREDIT_RELEASED: [],
    # The opening events of a migrated platform (strangler.introduce_events):
    # never published, folded when the read models are rebuilt from the store.
    OpeningEventType.ORDER_IMPORTED: [_order(order_view_import)],
    OpeningEventType.CUSTOMER_IMPORTED: [_customer(order_view_customer_register)],
}
