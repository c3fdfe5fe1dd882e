"""The lab's strangle-the-monolith, as ``lab compare --scenario`` runs it.

One real shared_db platform with customers and orders, clients writing all
the time, moved by the real ``approach migrate`` command to db_per_service,
event_sourcing and cqrs_es, its processes restarted on each; then the same
scenario asked of db_per_service, which it skips with its reason. The
numbers are the platform's own: the clients' answers and the stores.
"""

from __future__ import annotations

import pytest

from lab import runner
from lab.expectations import contradiction
from lab.scenarios import strangle_the_monolith as strangler
from shared_events.configuration import all_database_names
from stack import postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(server_url, database_prefix, monkeypatch_module):
    monkeypatch_module.setattr(runner, "LAB_PREFIX", f"{database_prefix}st_")
    monkeypatch_module.setattr(
        runner.environment, "ensure_database_server", lambda: server_url
    )
    try:
        run = runner.run_lab(
            scenarios=[strangler.StrangleTheMonolith.name],
            approaches=["shared_db", "db_per_service"],
            backends=[],
            progress=lambda line: None,
        )
        yield {result.label: result for result in run.results}
    finally:
        postgres.drop_databases(
            server_url=server_url, names=all_database_names(runner.LAB_PREFIX)
        )


def test_the_monolith_reaches_cqrs_es_with_nothing_lost_or_doubled(results):
    measured = results["shared_db"].measurements
    end = measured.figures[strangler.END]

    assert end[strangler.MIGRATED] == len(strangler.STEPS), results["shared_db"].notes
    assert (end[strangler.LOST], end[strangler.DUPLICATED]) == (0, 0)
    # The customer deleted under db_per_service left its orders behind; the
    # move to events closed them by its policy.
    assert end[strangler.ORPHANS_CLOSED] == strangler.ORDERS_EACH
    assert contradiction("strangle-the-monolith", "shared_db", measured) is None


def test_each_step_served_refused_only_in_its_window_and_audited_equal(results):
    figures = results["shared_db"].measurements.figures
    for step in strangler.STEPS:
        assert figures[step][strangler.ACCEPTED] > 0, step
        assert figures[step][strangler.AUDIT] == 1, step
    # The split and the events freeze the old tables until the services
    # restart: writes meet 503s there, and the refused stretch is measured.
    for step in ("db_per_service", "event_sourcing"):
        assert figures[step][strangler.REFUSED] > 0, step
        assert figures[step][strangler.LONGEST_REFUSED] > 0, step


def test_the_lesson_is_written_from_the_numbers(results):
    result = results["shared_db"]
    end = result.measurements.figures[strangler.END]

    assert "0 lost, 0 doubled" in result.lesson
    assert f"{end[strangler.ORPHANS_CLOSED]} orphan orders closed" in result.lesson


def test_anywhere_but_the_monolith_it_is_skipped_with_its_reason(results):
    skipped = results["db_per_service"]

    assert skipped.skipped
    assert "starts from the monolith" in skipped.lesson


def test_the_longest_refused_stretch_ends_at_the_first_other_answer():
    answers = [(0.0, "201"), (1.0, "503"), (1.5, "503"), (2.5, "503"), (3.0, "201")]
    answers += [(4.0, "503"), (4.2, "503")]

    assert strangler._longest_run(answers, "503") == pytest.approx(1.5)
    assert strangler._longest_run([(0.0, "201")], "503") == 0
