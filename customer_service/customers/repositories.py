"""Where the customer service keeps Customer aggregates.

``CustomerStateTable`` is the ``customers_customer`` table seen as current
state: the whole truth in approaches 1 to 3, a cached state written in the
same transaction as the events in approaches 4 and 5 (and rebuildable from
them). Which repository wraps it is ``customer_service.bootstrap``'s choice.
"""

from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, router
from django.utils import timezone

from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from shared_events.errors import ApplicationError
from shared_events.write_side import (
    StateTable,
    insert_state_row,
    refuse_stale_write,
    refuse_transaction,
)

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

    def write(
        self, aggregate: CustomerAggregate, *, expected_version: int
    ) -> Customer | None:
        """Store the customer's state; the new row when this write created it."""
        database = router.db_for_write(Customer)
        now = timezone.now()
        try:
            if aggregate.deleted:
                changed, _ = self._rows(aggregate, expected_version).delete()
            elif expected_version == 0 and (row := self._insert(aggregate, now)):
                return row
            else:
                changed = self._rows(aggregate, expected_version).update(
                    version=aggregate.version,
                    name=aggregate.name,
                    email=aggregate.email,
                    address=aggregate.address,
                    updated_at=now,
                )
        except IntegrityError:
            # The unique index on lower(email) is the guard: registration asks
            # nothing first, and two concurrent changes can both pass the
            # friendly check of an update.
            refuse_transaction(database)
            raise ApplicationError(DUPLICATE_EMAIL, field="email") from None
        if not changed:
            refuse_stale_write(
                database,
                aggregate="customer",
                aggregate_id=aggregate.id,
                expected_version=expected_version,
            )
        return None

    def keeps_row(self, aggregate: CustomerAggregate) -> bool:
        return not aggregate.deleted

    @staticmethod
    def _rows(aggregate: CustomerAggregate, expected_version: int):
        return Customer.objects.filter(id=aggregate.id, version=expected_version)

    @staticmethod
    def _insert(aggregate: CustomerAggregate, now) -> Customer | None:
        """Insert the new customer's row; None when the id was already there.

        A taken email is refused by the unique index on lower(email), which
        is not the arbiter of the insert (the id is).
        """
        row = Customer(
            id=aggregate.id,
            name=aggregate.name,
            email=aggregate.email,
            address=aggregate.address,
            version=aggregate.version,
            created_at=now,
            updated_at=now,
        )
        return row if insert_state_row(row) else None
