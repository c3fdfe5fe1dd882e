"""The contract of a read side's query API (approach 5), written once.

Each service's read-side ``test_apis`` subclasses ``QueryApiContract`` with
its routes, its read model and a ``projected`` fixture (the ids of what its
events made), then adds the tests that are its read model's own. What a
learner should notice: these answers do not depend on what a read model
holds. Every answer states its staleness (the header), a detail id is
checked like any input, the query API only reads, and a customer user sees
another customer's row exactly as an unknown one: 404. And a client may
read its own writes: ``?min_version=`` waits, bounded, for the row to reach
the version the client wrote, or answers 409 with ``Retry-After``, never an
older row (``service_kit.api.staleness``).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connections, models
from rest_framework import serializers

from service_kit.api import staleness
from service_kit.api.staleness import PROJECTED_AT_HEADER
from service_kit.testing.tokens import customer_jwt_client


def timestamp(value) -> str:
    """A datetime as the API writes it (the header, ``projected_at``)."""
    return serializers.DateTimeField().to_representation(value)


class QueryApiContract:
    list_url: str  # e.g. "/api/query/orders/"
    id_name: str  # the detail route's id, e.g. "order_id"
    read_model: type[models.Model]  # what the list answers from
    empty_filter: dict  # a list filter that matches nothing projected
    version_field: str  # the rows' aggregate version, e.g. "order_version"

    @pytest.fixture
    def projected(self) -> dict[str, uuid.UUID]:
        """The ids of what the subclass's events made, by name."""
        raise NotImplementedError

    def detail_url(self, item_id) -> str:
        return f"{self.list_url}{item_id}/"

    def any_item(self, projected) -> uuid.UUID:
        raise NotImplementedError

    def seen_by(self, projected) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        """A customer, an item of theirs and an item of another customer."""
        raise NotImplementedError

    def project_next_version(self, projected) -> int:
        """Project the next event of ``any_item``'s aggregate; the version its
        row reaches."""
        raise NotImplementedError

    def version_of(self, client, projected) -> int:
        response = client.get(self.detail_url(self.any_item(projected)))
        return response.json()[self.version_field]

    def test_an_empty_page_states_the_staleness_of_the_whole_read_model(
        self, api_client, projected
    ):
        rows = self.read_model.objects.values_list("projected_at", flat=True)
        newest = max(rows)

        response = api_client.get(self.list_url, self.empty_filter)

        assert response.json()["results"] == []
        assert response[PROJECTED_AT_HEADER] == timestamp(newest)

    def test_a_customer_users_empty_page_tells_nothing_of_others(self, projected):
        """Staff's empty page states the whole read model's staleness (above);
        a customer user's would tell when other customers last acted."""
        client = customer_jwt_client(uuid.uuid4())  # a customer with no rows

        response = client.get(self.list_url)

        assert response.status_code == 200
        assert response.json()["results"] == []
        assert PROJECTED_AT_HEADER not in response

    def test_before_anything_is_projected_there_is_no_staleness_header(
        self, api_client
    ):
        response = api_client.get(self.list_url)

        assert response.status_code == 200
        assert response.json()["count"] == 0
        assert PROJECTED_AT_HEADER not in response

    def test_an_unknown_id_is_a_404(self, api_client, projected):
        response = api_client.get(self.detail_url(uuid.uuid4()))

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_an_id_that_is_not_a_uuid_is_a_400_that_says_why(self, api_client):
        response = api_client.get(self.detail_url("not-a-uuid"))

        assert response.status_code == 400
        assert self.id_name in response.json()

    def test_authentication_is_required(self, anonymous_client, projected):
        detail_url = self.detail_url(self.any_item(projected))

        assert anonymous_client.get(self.list_url).status_code == 401
        assert anonymous_client.get(detail_url).status_code == 401

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_the_query_api_only_reads(self, api_client, projected, method):
        for url in (self.list_url, self.detail_url(self.any_item(projected))):
            response = getattr(api_client, method)(url, {}, format="json")
            assert response.status_code == 405, (method, url)

    def test_another_customers_row_is_404_like_an_unknown_id(self, projected):
        customer, own, others = self.seen_by(projected)
        client = customer_jwt_client(customer)

        other = client.get(self.detail_url(others))
        unknown = client.get(self.detail_url(uuid.uuid4()))

        assert other.status_code == unknown.status_code == 404
        assert other.json() == unknown.json()
        assert client.get(self.detail_url(own)).status_code == 200

    # READ YOUR WRITES: ?min_version=
    # --------------------------------------------------------------------------

    def test_a_version_already_projected_is_answered_at_once(
        self, api_client, projected, monkeypatch
    ):
        pauses = []
        monkeypatch.setattr(staleness, "pause", pauses.append)
        url = self.detail_url(self.any_item(projected))
        plain = api_client.get(url)

        response = api_client.get(
            url, {"min_version": plain.json()[self.version_field]}
        )

        assert response.status_code == 200
        assert response.json() == plain.json()
        assert response[PROJECTED_AT_HEADER] == plain[PROJECTED_AT_HEADER]
        assert pauses == []

    def test_a_version_projected_while_waiting_is_answered(
        self, api_client, projected, monkeypatch
    ):
        written = self.version_of(api_client, projected) + 1
        projected_meanwhile = []

        def projection_catches_up(seconds):
            if not projected_meanwhile:
                projected_meanwhile.append(self.project_next_version(projected))

        monkeypatch.setattr(staleness, "pause", projection_catches_up)

        response = api_client.get(
            self.detail_url(self.any_item(projected)), {"min_version": written}
        )

        assert response.status_code == 200, response.json()
        assert response.json()[self.version_field] == written
        assert projected_meanwhile == [written]
        assert PROJECTED_AT_HEADER in response

    @pytest.mark.django_db(transaction=True, databases=["default", "read"])
    def test_a_projection_committed_elsewhere_during_the_wait_is_answered(
        self, api_client, projected
    ):
        """Through the real wait: the projector commits from another thread
        (another database connection) while the request polls."""
        written = self.version_of(api_client, projected) + 1

        def projector() -> None:
            time.sleep(0.3)
            try:
                self.project_next_version(projected)
            finally:
                connections.close_all()

        thread = threading.Thread(target=projector)
        started = time.monotonic()
        thread.start()
        response = api_client.get(
            self.detail_url(self.any_item(projected)), {"min_version": written}
        )
        waited = time.monotonic() - started
        thread.join()

        assert response.status_code == 200, response.json()
        assert response.json()[self.version_field] == written
        assert 0.3 <= waited < staleness.READ_YOUR_WRITES_WAIT_SECONDS

    def test_a_version_not_projected_in_time_is_409_with_retry_after(
        self, api_client, projected, monkeypatch
    ):
        monkeypatch.setattr(staleness, "READ_YOUR_WRITES_WAIT_SECONDS", 0.2)
        shown = self.version_of(api_client, projected)

        started = time.monotonic()
        response = api_client.get(
            self.detail_url(self.any_item(projected)), {"min_version": shown + 1}
        )
        waited = time.monotonic() - started

        assert response.status_code == 409
        assert response["Retry-After"] == str(staleness.READ_YOUR_WRITES_RETRY_AFTER)
        body = response.json()
        assert (body["min_version"], body["projected_version"]) == (shown + 1, shown)
        assert f"has not reached version {shown + 1}" in body["detail"]
        assert 0.2 <= waited < 2

    def test_with_min_version_another_customers_row_looks_unknown(
        self, projected, monkeypatch
    ):
        """A row not there yet is waited for (its writer knows it exists); one
        the caller may not see is never there, and answers the same 409."""
        monkeypatch.setattr(staleness, "READ_YOUR_WRITES_WAIT_SECONDS", 0.1)
        customer, own, others = self.seen_by(projected)
        client = customer_jwt_client(customer)

        other = client.get(self.detail_url(others), {"min_version": 1})
        unknown = client.get(self.detail_url(uuid.uuid4()), {"min_version": 1})

        assert other.status_code == unknown.status_code == 409
        assert other.json() == unknown.json()
        assert other.json()["projected_version"] is None
        assert client.get(self.detail_url(own), {"min_version": 1}).status_code == 200

    @pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", "2147483648"])
    def test_a_min_version_that_is_not_a_version_is_a_400_that_says_why(
        self, api_client, projected, value
    ):
        response = api_client.get(
            self.detail_url(self.any_item(projected)), {"min_version": value}
        )

        assert response.status_code == 400
        assert "min_version" in response.json()
