"""Two consumer processes projecting the same customer at once.

An OrderPlaced and a CustomerRenamed of the same customer are different
aggregates, so two read-side consumers may project them at the same moment.
Without a lock the rename would update the customer's orders *before* the
new order is committed, and the new order would keep the old name for good.
Both handlers lock the customer's OrderViewCustomer row first, so the rename
waits for the placement and then updates it too.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from order_service.order_views.models import OrderView
from order_service.order_views.projections import PROJECTION_HANDLERS
from order_service.order_views.tests.projection_support import CONSUMER, project
from shared_events.consume import apply_event
from shared_events.events import EventType
from shared_events.testing.projection_events import (
    placed,
    registered,
    renamed,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])


def test_a_rename_during_a_placement_still_reaches_the_new_order():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    project(registered(customer_id))
    placement_in_progress, release_placement = threading.Event(), threading.Event()
    rename_done = threading.Event()
    errors: list[BaseException] = []

    def hold_the_transaction_open(envelope) -> None:
        placement_in_progress.set()
        assert release_placement.wait(10)

    def run(envelope, handlers, done=None) -> None:
        try:
            apply_event(
                consumer=CONSUMER, envelope=envelope, handlers=handlers, database="read"
            )
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            if done:
                done.set()
            connections.close_all()

    placement = threading.Thread(
        target=run,
        args=(
            placed(order_id, customer_id),
            [*PROJECTION_HANDLERS[EventType.ORDER_PLACED], hold_the_transaction_open],
        ),
    )
    rename = threading.Thread(
        target=run,
        args=(
            renamed(customer_id, "Ada King", version=2),
            PROJECTION_HANDLERS[EventType.CUSTOMER_RENAMED],
            rename_done,
        ),
    )
    placement.start()
    assert placement_in_progress.wait(10)
    rename.start()

    # The rename waits for the customer's row lock held by the placement.
    assert not rename_done.wait(0.5)
    release_placement.set()
    placement.join(10)
    rename.join(10)

    assert errors == []
    assert OrderView.objects.get(order_id=order_id).customer_name == "Ada King"
