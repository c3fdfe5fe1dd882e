"""The query side as a process of its own: ``customer_service.config.query_urls``."""

import pytest

from service_kit.testing.query_side import QuerySideContract


@pytest.mark.urls("customer_service.config.query_urls")
class TestCustomerQuerySide(QuerySideContract):
    query_list_url = "/api/query/customers/"
    id_name = "customer_id"
    command_list_url = "/api/customers/"
    command_url = "/api/customers/register/"
    read_model_components = {"CustomerSummary", "PaginatedCustomerSummaryList"}
