"""System checks refuse a service configuration that cannot work, saying why."""

from django.core import checks


def errors(check_id: str) -> list[checks.CheckMessage]:
    return [error for error in checks.run_checks() if error.id == check_id]


def test_a_query_side_only_process_without_a_query_side_is_refused(settings):
    settings.QUERY_SIDE_ONLY = True
    settings.APPROACH_HAS_READ_SIDE = False

    found = errors("shared_events.E003")

    assert found and "approach 5" in found[0].msg


def test_a_query_side_only_process_under_cqrs_passes(settings):
    settings.QUERY_SIDE_ONLY = True
    settings.APPROACH_HAS_READ_SIDE = True

    assert errors("shared_events.E003") == []
