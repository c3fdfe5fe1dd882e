"""The contract of a query side run as a process of its own (approach 5).

A process started with ``QUERY_SIDE_ONLY=true`` serves ``config/query_urls``:
health, the schema and the query API, and no command API at all. Written
once, as pyeventsourcing writes its persistence tests; each service's
``test_query_urls`` subclasses it, marks it with its URLconf and names its
routes. What a learner should notice: the query side documents only what it
serves, so a client of the query process never sees a command.
"""

from __future__ import annotations

import pytest


@pytest.mark.django_db(databases=["default", "read"])
class QuerySideContract:
    query_list_url: str  # e.g. "/api/query/orders/"
    id_name: str  # the detail route's id, e.g. "order_id"
    command_list_url: str  # e.g. "/api/orders/"
    command_url: str  # a command's POST, e.g. "/api/orders/place/"
    read_model_components: set[str]  # e.g. {"OrderView", "PaginatedOrderViewList"}

    @property
    def documented_paths(self) -> set[str]:
        """The schema's paths besides /api/health/: the list and its detail."""
        return {self.query_list_url, f"{self.query_list_url}{{{self.id_name}}}/"}

    def test_the_query_side_serves_the_query_api_and_health(self, api_client):
        assert api_client.get(self.query_list_url).status_code == 200
        assert api_client.get("/api/health/").status_code == 200

    def test_the_query_side_serves_no_command_api(self, api_client):
        assert api_client.get(self.command_list_url).status_code == 404
        assert api_client.post(self.command_url, {}).status_code == 404

    def test_the_query_side_documents_only_its_own_routes(self, api_client):
        schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

        assert set(schema["paths"]) == {"/api/health/", *self.documented_paths}
        components = schema["components"]["schemas"]
        assert self.read_model_components <= set(components)

    def test_health_checks_the_read_database_too(self, api_client):
        response = api_client.get("/api/health/")

        assert response.json()["databases"] == {"default": "ok", "read": "ok"}
