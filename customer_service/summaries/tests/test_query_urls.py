"""The query side as a process of its own: ``customer_service.config.query_urls``.

A process started with ``QUERY_SIDE_ONLY=true`` serves these routes: health,
the schema and the query API, and no command API at all.
"""

import pytest

pytestmark = [
    pytest.mark.django_db(databases=["default", "read"]),
    pytest.mark.urls("customer_service.config.query_urls"),
]


def test_the_query_side_serves_the_query_api_and_health(api_client):
    assert api_client.get("/api/query/customers/").status_code == 200
    assert api_client.get("/api/health/").status_code == 200


def test_the_query_side_serves_no_command_api(api_client):
    assert api_client.get("/api/customers/").status_code == 404
    assert api_client.post("/api/customers/register/", {}).status_code == 404


def test_the_query_side_documents_only_its_own_routes(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert set(schema["paths"]) == {
        "/api/health/",
        "/api/query/customers/",
        "/api/query/customers/{customer_id}/",
    }
    components = schema["components"]["schemas"]
    assert {"CustomerSummary", "PaginatedCustomerSummaryList"} <= set(components)


def test_health_checks_the_read_database_too(api_client):
    response = api_client.get("/api/health/")

    assert response.json()["databases"] == {"default": "ok", "read": "ok"}
