"""The query side as a process of its own: ``order_service.config.query_urls``."""

import pytest

from service_kit.testing.query_side import QuerySideContract


@pytest.mark.urls("order_service.config.query_urls")
class TestOrderQuerySide(QuerySideContract):
    query_list_url = "/api/query/orders/"
    id_name = "order_id"
    command_list_url = "/api/orders/"
    command_url = "/api/orders/place/"
    read_model_components = {"OrderView", "PaginatedOrderViewList"}
