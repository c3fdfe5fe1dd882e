"""Customers the fake directory knows, for the order service's tests."""

import uuid

import pytest

from order_service.orders.customers import CustomerSnapshot


@pytest.fixture
def ada(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada Lovelace", email="ada@example.com")
    )


@pytest.fixture
def grace(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(
            id=uuid.uuid4(), name="Grace Hopper", email="grace@example.com"
        )
    )
