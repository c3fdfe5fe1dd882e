"""The query side as a process of its own: ``order_service.config.query_urls``."""

import pytest

from service_kit.testing.query_side import QuerySideContract


@pytest.mark.django_db(databases=["default", "read"])
@pytest.mark.urls("order_service.config.query_urls")
class TestOrderQuerySide(QuerySideContract):
    query_list_url = "/api/query/orders/"
    command_list_url = "/api/orders/"
    command_url = "/api/orders/place/"
    documented_paths = {"/api/query/orders/", "/api/query/orders/{order_id}/"}
    read_model_components = {"OrderView", "PaginatedOrderViewList"}
