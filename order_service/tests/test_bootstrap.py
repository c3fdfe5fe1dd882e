"""The order service's composition root chooses the customer directory.

Which approaches keep an order history is proven with the history API, in
``orders/tests/test_history_apis.py``.
"""

import dataclasses

import pytest
from django.conf import settings

from order_service import bootstrap
from order_service import wiring as order_wiring
from order_service.orders.customers import (
    HttpCustomerDirectory,
    SharedTableCustomerDirectory,
)
from order_service.orders.tests.fakes import FakeCustomerDirectory
from shared_events.approaches import APPROACHES, Approach, ApproachNotBuilt


def test_db_per_service_asks_the_customer_service_over_http():
    directory = bootstrap.build_wiring(Approach.DB_PER_SERVICE).customer_directory

    assert isinstance(directory, HttpCustomerDirectory)
    assert directory.base_url == settings.CUSTOMER_SERVICE_URL.rstrip("/")
    assert directory.timeout == settings.CUSTOMER_SERVICE_TIMEOUT
    assert directory.session.headers["Authorization"] == (
        f"Service {settings.CUSTOMER_SERVICE_TOKEN}"
    )


def test_shared_db_reads_the_customer_table():
    directory = bootstrap.build_wiring(Approach.SHARED_DB).customer_directory

    assert isinstance(directory, SharedTableCustomerDirectory)


def test_an_approach_not_built_yet_is_refused(monkeypatch):
    pretend = dataclasses.replace(APPROACHES[Approach.CQRS_ES], built=False)
    monkeypatch.setitem(APPROACHES, Approach.CQRS_ES, pretend)
    with pytest.raises(ApproachNotBuilt):
        bootstrap.build_wiring(Approach.CQRS_ES)


def test_overridden_restores_the_previous_wiring(customer_directory):
    other = FakeCustomerDirectory()

    with bootstrap.overridden(customer_directory=other) as wiring:
        assert order_wiring.current() is wiring
        assert wiring.customer_directory is other
        assert wiring.approach == Approach(settings.ARCHITECTURE_APPROACH)

    assert order_wiring.current().customer_directory is customer_directory
