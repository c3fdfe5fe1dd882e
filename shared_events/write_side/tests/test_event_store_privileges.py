"""The event store is append-only by privilege: a service's role can add, not change.

pytest-django made this test database as the superuser. Each test hands it
to the platform's roles with the very function ``stack.environment.prepare``
runs for a platform's databases (``stack.database_roles.secure_databases``),
then runs the service's own code connected as the customer service's
runtime role. Appending and loading events works; changing them is refused
by PostgreSQL's privileges ("permission denied"), before the trigger of
migration 0002 ("append-only") is even reached, and so is switching that
trigger off, the superuser's way around it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction

from shared_events.configuration import load_env
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.testing.customer_events import registered, renamed
from shared_events.write_side.event_store import event_store_append, event_store_load
from stack import environment
from stack.database_roles import Role, platform_roles, secure_databases

# Flushed between tests by the superuser (TRUNCATE), which the role may not.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def writer() -> Role:
    """The customer service's runtime role, granted on this test database."""
    environment.ensure_local_secrets()
    load_env()
    roles = platform_roles(
        prefix=os.environ.get("DATABASE_NAME_PREFIX", ""), env=os.environ
    )
    secured = secure_databases(
        server_url=os.environ["DATABASE_SERVER_URL"],
        databases={connection.settings_dict["NAME"]: roles.write_access("customer")},
    )
    assert secured, "the test server's user must be a superuser"
    return roles.writers["customer"]


@contextmanager
def connected_as(role: Role) -> Iterator[None]:
    """Django's connection to this database, as ``role`` for the block."""
    serving = connection.settings_dict
    connection.close()
    connection.settings_dict = {**serving, "USER": role.name, "PASSWORD": role.password}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = serving


def test_the_role_appends_and_loads_events_and_queues_them(writer):
    customer_id = uuid.uuid4()

    with connected_as(writer), transaction.atomic():
        event_store_append(
            envelopes=[registered(customer_id), renamed(customer_id, version=2)],
            expected_version=0,
            outbox=True,
        )
        loaded = event_store_load(aggregate_id=customer_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            (user,) = cursor.fetchone()

    assert user == writer.name
    assert [event.aggregate_version for event in loaded] == [1, 2]
    assert OutboxMessage.objects.filter(aggregate_id=customer_id).count() == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event_store SET payload = '{}'::jsonb WHERE aggregate_id = %s",
        "DELETE FROM event_store WHERE aggregate_id = %s",
        "TRUNCATE event_store",
        "ALTER TABLE event_store DISABLE TRIGGER event_store_append_only",
    ],
    ids=["update", "delete", "truncate", "disable the trigger"],
)
def test_the_role_may_not_change_stored_events(writer, statement):
    customer_id = uuid.uuid4()
    with connected_as(writer):
        event_store_append(envelopes=[registered(customer_id)], expected_version=0)

        with (
            pytest.raises(DatabaseError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [customer_id] if "%s" in statement else None)

    # Refused by privilege: the trigger's "append-only" would mean it got past.
    message = str(refused.value)
    assert "permission denied" in message or "must be owner" in message, message
    assert StoredEvent.objects.filter(aggregate_id=customer_id).count() == 1


def test_the_orm_is_refused_by_privilege_too(writer):
    customer_id = uuid.uuid4()
    with connected_as(writer):
        event_store_append(envelopes=[registered(customer_id)], expected_version=0)

        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
        ):
            StoredEvent.objects.filter(aggregate_id=customer_id).update(
                event_type="CustomerDeleted"
            )

    assert StoredEvent.objects.get(aggregate_id=customer_id).event_type == (
        "CustomerRegistered"
    )
