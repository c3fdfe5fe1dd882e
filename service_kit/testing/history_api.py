"""The contract of an aggregate's history API, written once.

Two routes per aggregate: its stored events (``<aggregate>-history``) and its
state as of a version (``<aggregate>-as-of``), each taking ``<aggregate>_id``.
Each service's ``test_history_apis`` subclasses ``HistoryApiContract`` with
its aggregate's name, its composition root and two aggregates: one recorded
under event sourcing (the ``recorded`` fixture, whose event types are
``recorded_events``) and one made under the runner's approach, db_per_service
(``unrecorded``). What a learner should
notice: only an event store keeps a history; the composition root decides who
keeps one, and an approach without one says so, naming the approaches that do.
"""

from __future__ import annotations

import uuid
from types import ModuleType

import pytest
from django.urls import reverse

from shared_events.approaches import Approach
from shared_events.models import StoredEvent
from shared_events.write_side import EventStoreHistory, NoHistory

ROUTES = ["history", "as-of"]


class HistoryApiContract:
    aggregate: str  # "customer", as the routes, the answers and the wiring name it
    composition_root: ModuleType  # the service's bootstrap module
    recorded_events: list[str]  # the ``recorded`` aggregate's event types, in order

    @pytest.fixture
    def recorded(self) -> uuid.UUID:
        """An aggregate that recorded ``recorded_events``, under event sourcing."""
        raise NotImplementedError

    @pytest.fixture
    def unrecorded(self) -> uuid.UUID:
        """An aggregate made under the runner's approach, which keeps no history."""
        raise NotImplementedError

    def url(self, route: str, aggregate_id, *, version: int = 1) -> str:
        """The URL of ``route`` for one aggregate (as of ``version``)."""
        arguments = {f"{self.aggregate}_id": aggregate_id}
        if route == "as-of":
            arguments["version"] = version
        return reverse(f"{self.aggregate}-{route}", kwargs=arguments)

    def test_history_lists_the_stored_events_oldest_first(self, api_client, recorded):
        response = api_client.get(self.url("history", recorded))

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == len(self.recorded_events)
        assert [
            (event["aggregate_version"], event["event_type"])
            for event in body["results"]
        ] == list(enumerate(self.recorded_events, start=1))

    @pytest.mark.parametrize("route", ROUTES)
    def test_an_unknown_id_is_404(self, api_client, event_sourcing, route):
        response = api_client.get(self.url(route, uuid.uuid4()))

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    @pytest.mark.parametrize("beyond", [1, 1000, 10**30])
    def test_as_of_a_version_not_reached_is_404_with_the_reason(
        self, api_client, recorded, beyond
    ):
        last_version = len(self.recorded_events)
        version = last_version + beyond

        response = api_client.get(self.url("as-of", recorded, version=version))

        assert response.status_code == 404
        assert response.json() == {
            "detail": (
                f"{self.aggregate.capitalize()} {recorded} has no version {version}: "
                f"its last recorded version is {last_version}"
            )
        }

    @pytest.mark.parametrize("version", ["0", "-1", "abc", "1.5", "1e3", "%20"])
    def test_as_of_a_version_that_is_not_a_positive_integer_is_400(
        self, api_client, recorded, version
    ):
        aggregates = reverse(f"{self.aggregate}-list")

        response = api_client.get(f"{aggregates}{recorded}/as-of/{version}/")

        assert response.status_code == 400
        assert list(response.json()) == ["version"]

    # AUTHENTICATION, METHODS, OTHER APPROACHES
    # --------------------------------------------------------------------------

    @pytest.mark.parametrize("route", ROUTES)
    def test_history_needs_credentials(self, anonymous_client, route):
        response = anonymous_client.get(self.url(route, uuid.uuid4()))

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    @pytest.mark.parametrize("route", ROUTES)
    def test_history_is_read_only(self, api_client, route):
        assert api_client.post(self.url(route, uuid.uuid4())).status_code == 405

    @pytest.mark.parametrize("route", ROUTES)
    def test_an_approach_without_an_event_store_says_it_keeps_no_history(
        self, api_client, unrecorded, route
    ):
        response = api_client.get(self.url(route, unrecorded))

        assert response.status_code == 404
        detail = response.json()["detail"]
        assert detail.startswith(
            "approach db_per_service (2 of 5: database per service) keeps no "
            f"{self.aggregate} history"
        )
        assert "event_sourcing, cqrs_es" in detail
        assert not StoredEvent.objects.exists()

    @pytest.mark.parametrize(
        ("approach", "history"),
        [
            (Approach.SHARED_DB, NoHistory),
            (Approach.DB_PER_SERVICE, NoHistory),
            (Approach.DIRECT_PUBLISH, NoHistory),
            (Approach.EVENT_SOURCING, EventStoreHistory),
        ],
    )
    def test_the_composition_root_decides_who_keeps_a_history(self, approach, history):
        wiring = self.composition_root.build_wiring(approach)

        kept = getattr(wiring, f"{self.aggregate}_history")
        assert type(kept) is history
        if history is EventStoreHistory:
            assert kept.repository is getattr(wiring, f"{self.aggregate}_repository")
        else:
            assert approach.value in kept.reason
