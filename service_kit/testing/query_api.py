"""The contract of a read side's query API (approach 5), written once.

Each service's read-side ``test_apis`` subclasses ``QueryApiContract`` with
its routes, its read model and a ``projected`` fixture (the ids of what its
events made), then adds the tests that are its read model's own. What a
learner should notice: these answers do not depend on what a read model
holds. Every answer states its staleness (the header), a detail id is
checked like any input, the query API only reads, and a customer user sees
another customer's row exactly as an unknown one: 404.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import models
from rest_framework import serializers

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
