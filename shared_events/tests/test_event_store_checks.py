"""EVENT_STORE is checked at start-up: a store not known, or DynamoDB where no
service keeps events, is refused with a hint (``shared_events.checks``)."""

import pytest
from django.core import checks


def errors(check_id: str) -> list[checks.CheckMessage]:
    return [error for error in checks.run_checks() if error.id == check_id]


def test_an_unknown_event_store_is_refused(settings):
    settings.EVENT_STORE = "cassandra"

    (found,) = errors("shared_events.E005")

    assert "cassandra" in found.msg
    assert "dynamodb" in found.hint


@pytest.mark.parametrize("approach", ["db_per_service", "direct_publish", "shared_db"])
def test_dynamodb_under_an_approach_without_an_event_store_is_refused(
    settings, approach
):
    settings.EVENT_STORE = "dynamodb"
    settings.ARCHITECTURE_APPROACH = approach

    (found,) = errors("shared_events.E006")

    assert found.msg.startswith("EVENT_STORE=dynamodb needs an event-sourced approach")
    assert approach in found.msg
    assert "event_sourcing, cqrs_es" in found.hint


@pytest.mark.parametrize(
    ("store", "approach"),
    [
        ("dynamodb", "event_sourcing"),
        ("dynamodb", "cqrs_es"),
        ("postgres", "db_per_service"),
        ("postgres", "event_sourcing"),
    ],
)
def test_the_known_combinations_pass(settings, store, approach):
    settings.EVENT_STORE = store
    settings.ARCHITECTURE_APPROACH = approach

    assert errors("shared_events.E005") == errors("shared_events.E006") == []
