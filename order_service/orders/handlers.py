"""What the order service does when customer events arrive: keep its
replica, cancel a deleted customer's orders, and take the customer service's
answer to each order placed (the credit saga).

Run by ``consume_events`` inside the consumer's transaction, together with
the processed-event record: each effect happens once, in version order.
"""

from __future__ import annotations

from uuid import UUID

from order_service.orders.models import CustomerReplica
from order_service.orders.services import (
    order_approve,
    order_refuse_credit,
    orders_cancel_for_deleted_customer,
)
from shared_events.consume import Handler
from shared_events.events import EventEnvelope, EventType


def _customer_id(envelope: EventEnvelope) -> UUID:
    return UUID(envelope.payload["customer_id"])


def replica_register(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    CustomerReplica.objects.update_or_create(
        id=_customer_id(envelope),
        defaults={
            "name": payload["name"],
            "email": payload["email"],
            "address": payload["address"],
            "version": envelope.aggregate_version,
            "deleted": False,
        },
    )


def _replica_update(envelope: EventEnvelope, **fields) -> None:
    CustomerReplica.objects.filter(id=_customer_id(envelope)).update(
        version=envelope.aggregate_version, **fields
    )


def replica_rename(envelope: EventEnvelope) -> None:
    _replica_update(envelope, name=envelope.payload["name"])


def replica_change_email(envelope: EventEnvelope) -> None:
    _replica_update(envelope, email=envelope.payload["email"])


def replica_change_address(envelope: EventEnvelope) -> None:
    _replica_update(envelope, address=envelope.payload["address"])


def replica_delete(envelope: EventEnvelope) -> None:
    _replica_update(envelope, deleted=True)


def cancel_orders_of_deleted_customer(envelope: EventEnvelope) -> None:
    orders_cancel_for_deleted_customer(customer_id=_customer_id(envelope))


def approve_order_with_credit(envelope: EventEnvelope) -> None:
    order_approve(order_id=UUID(envelope.payload["order_id"]))


def reject_order_over_the_limit(envelope: EventEnvelope) -> None:
    order_refuse_credit(order_id=UUID(envelope.payload["order_id"]))


# The credit events change nothing the replica keeps (its version is that of
# the customer's last change of data, as in every copy).
EVENT_HANDLERS: dict[str, list[Handler]] = {
    EventType.CUSTOMER_REGISTERED: [replica_register],
    EventType.CUSTOMER_RENAMED: [replica_rename],
    EventType.CUSTOMER_EMAIL_CHANGED: [replica_change_email],
    EventType.CUSTOMER_ADDRESS_CHANGED: [replica_change_address],
    EventType.CUSTOMER_DELETED: [replica_delete, cancel_orders_of_deleted_customer],
    EventType.CREDIT_RESERVED: [approve_order_with_credit],
    EventType.CREDIT_LIMIT_EXCEEDED: [reject_order_over_the_limit],
}
