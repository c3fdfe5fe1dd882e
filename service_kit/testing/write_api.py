"""The contract of a service's write API, written once.

Each service's ``test_apis`` subclasses ``WriteApiContract`` with its
endpoints, its aggregate's model, a valid body for its create endpoint (the
``creation`` fixture) and three aggregates to list (the ``listed`` fixture),
then adds the tests that are its domain's own. What a learner should notice:
wherever an answer does not depend on the domain, both services give the same
one. Every endpoint needs credentials (401, with the scheme to use), a wrong
method is 405, an unknown or malformed id is a JSON 404, the create endpoint
takes a JSON object and nothing else, a list is paginated by limit and offset,
and the health check is open to anyone, the schema and the docs to a signed-in
caller only.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models

from service_kit.testing.routes import AggregateRoute
from service_kit.testing.tokens import jwt_client

#: An id no test ever creates, for the endpoints that take one.
SOME_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


class Endpoint(NamedTuple):
    """One endpoint: its path, the method it answers and those it refuses (405)."""

    path: str  # as the schema documents it, e.g. "/api/orders/{order_id}/cancel/"
    method: str
    refused: tuple[str, ...]

    @property
    def url(self) -> str:
        """The path, with SOME_ID for the id it takes."""
        return re.sub(r"\{\w+\}", str(SOME_ID), self.path)


class WriteApiContract:
    service: str  # the service's name, as its health check gives it
    model: type[models.Model]  # the aggregate's table
    list_url: str
    create_url: str
    detail_route: AggregateRoute
    endpoints: list[Endpoint]  # every endpoint of the aggregate
    list_filters: set[str]  # the list's query parameters besides limit and offset

    @pytest.fixture
    def creation(self) -> dict:
        """A valid body for the create endpoint."""
        raise NotImplementedError

    @pytest.fixture
    def listed(self) -> list[uuid.UUID]:
        """The ids of three aggregates, oldest first."""
        raise NotImplementedError

    def pytest_generate_tests(self, metafunc) -> None:
        """Each endpoint test runs once per (method, URL) of the subclass."""
        cases = {
            "test_a_wrong_method_is_405": [
                (method, endpoint.url)
                for endpoint in self.endpoints
                for method in endpoint.refused
            ],
            "test_every_endpoint_needs_credentials": [
                (endpoint.method, endpoint.url) for endpoint in self.endpoints
            ],
        }
        if metafunc.function.__name__ in cases:
            metafunc.parametrize(("method", "url"), cases[metafunc.function.__name__])

    # CREATE
    # --------------------------------------------------------------------------

    def test_create_refuses_a_malformed_json_body(self, api_client, creation):
        cut_short = json.dumps(creation)[:-1] + ","

        response = api_client.post(
            self.create_url, cut_short, content_type="application/json"
        )

        assert response.status_code == 400
        assert "JSON parse error" in response.json()["detail"]
        assert not self.model.objects.exists()

    def test_create_refuses_a_body_that_is_not_an_object(self, api_client, creation):
        response = api_client.post(self.create_url, [creation], format="json")

        assert response.status_code == 400
        assert list(response.json()) == ["non_field_errors"]
        assert not self.model.objects.exists()

    def test_create_refuses_a_form_encoded_body(self, api_client, creation):
        response = api_client.post(
            self.create_url,
            urlencode(creation),
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 415
        assert "application/x-www-form-urlencoded" in response.json()["detail"]
        assert not self.model.objects.exists()

    # LIST AND DETAIL
    # --------------------------------------------------------------------------

    def test_list_is_paginated_by_limit_and_offset(self, api_client, listed):
        response = api_client.get(self.list_url, {"limit": 1, "offset": 1})

        body = response.json()
        assert body["count"] == 3
        assert [item["id"] for item in body["results"]] == [str(listed[1])]
        assert body["next"] is not None
        assert body["previous"] is not None

    def test_detail_of_an_unknown_id_is_404(self, api_client):
        response = api_client.get(self.detail_route(uuid.uuid4()))

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_a_malformed_id_in_the_path_is_a_json_404(self, api_client):
        response = api_client.get(f"{self.list_url}not-a-uuid/")

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    # METHODS AND AUTHENTICATION
    # --------------------------------------------------------------------------

    def test_a_wrong_method_is_405(self, api_client, method, url):
        response = getattr(api_client, method)(url)

        assert response.status_code == 405
        assert method.upper() in response.json()["detail"]

    def test_every_endpoint_needs_credentials(self, anonymous_client, method, url):
        response = getattr(anonymous_client, method)(url, {}, format="json")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_an_unknown_user_token_is_401(self, anonymous_client):
        anonymous_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

        response = anonymous_client.get(self.list_url)

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}

    # HEALTH, SCHEMA, DOCS
    # --------------------------------------------------------------------------

    def test_health_is_open_without_credentials(self, anonymous_client):
        response = anonymous_client.get("/api/health/")

        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "service": self.service,
            "approach": settings.ARCHITECTURE_APPROACH,
            "database": "ok",
            "databases": {"default": "ok"},
        }

    def test_health_refuses_a_post(self, anonymous_client):
        assert anonymous_client.post("/api/health/").status_code == 405

    @pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
    def test_the_schema_and_docs_need_credentials(self, anonymous_client, url):
        response = anonymous_client.get(url)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_the_schema_answers_a_jwt_too(self):
        client = jwt_client(is_staff=True)

        response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

        assert response.status_code == 200
        assert response.json()["paths"]

    def test_the_schema_documents_every_endpoint(self, api_client):
        response = api_client.get("/api/schema/", {"format": "json"})

        assert response.status_code == 200
        documented = {endpoint.path for endpoint in self.endpoints}
        assert {*documented, "/api/health/"} <= set(response.json()["paths"])

    def test_the_schema_documents_the_paginated_list_envelope(self, api_client):
        schema = api_client.get("/api/schema/", {"format": "json"}).json()

        listing = schema["paths"][self.list_url]["get"]
        ok = listing["responses"]["200"]
        reference = ok["content"]["application/json"]["schema"]["$ref"]
        envelope = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
        parameters = {parameter["name"] for parameter in listing["parameters"]}
        assert {*self.list_filters, "limit", "offset"} <= parameters

    def test_the_schema_generates_without_warnings_and_validates(self):
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"
        )

    def test_the_docs_page_points_at_the_schema(self, api_client):
        response = api_client.get("/api/docs/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert b"/api/schema/" in response.content
