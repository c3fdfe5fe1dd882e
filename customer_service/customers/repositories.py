"""Where the customer service keeps Customer aggregates.

``CustomerStateTable`` is the ``customers_customer`` table seen as current
state: the whole truth in approaches 1 to 3, a cached state written in the
same transaction as the events in approaches 4 and 5 (and rebuildable from
them). Which repository wraps it is ``customer_service.bootstrap``'s choice.
"""

from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from shared_events.errors import ApplicationError, ConcurrencyConflict
from shared_events.repositories import StateTable

DUPLICATE_EMAIL = "a customer with this email already exists"


class CustomerStateTable(StateTable[CustomerAggregate]):
    def load(self, aggregate_id: UUID) -> CustomerAggregate | None:
        row = Customer.objects.filter(id=aggregate_id).first()
        if row is None:
            return None
        return CustomerAggregate(
            id=row.id,
            version=row.version,
            name=row.name,
            email=row.email,
            address=row.address,
        )

    def write(self, aggregate: CustomerAggregate, *, expected_version: int) -> None:
        fields = {
            "version": aggregate.version,
            "name": aggregate.name,
            "email": aggregate.email,
            "address": aggregate.address,
        }
        rows = Customer.objects.filter(id=aggregate.id, version=expected_version)
        try:
            with transaction.atomic():
                if aggregate.deleted:
                    changed, _ = rows.delete()
                elif expected_version == 0 and not rows.exists():
                    Customer.objects.create(id=aggregate.id, **fields)
                    changed = 1
                else:
                    # A version-0 row is one written outside the aggregate
                    # (the admin, a fixture): it is updated like any other.
                    changed = rows.update(updated_at=timezone.now(), **fields)
        except IntegrityError:
            # The unique index on lower(email) is the real guard: two
            # concurrent registrations can both pass the friendly check.
            raise ApplicationError(DUPLICATE_EMAIL, field="email") from None
        if not changed:
            raise ConcurrencyConflict(
                f"customer {aggregate.id} was changed by someone else since version "
                f"{expected_version}; reload it and try again"
            )
