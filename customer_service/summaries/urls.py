"""Query routes of the customer service (approach 5): GETs on read models only.

Mounted under ``api/query/`` by ``customer_service.config.urls`` (next to the
command API) and by ``customer_service.config.query_urls`` (the query side as a
process of its own).
"""

from django.urls import path

from customer_service.summaries import apis

urlpatterns = [
    path(
        "customers/",
        apis.CustomerSummaryListApi.as_view(),
        name="query-customer-list",
    ),
    # ``customer_id`` is matched as any segment and checked by the API, so
    # that "abc" is a 400 that says why, not a bare 404.
    path(
        "customers/<str:customer_id>/",
        apis.CustomerSummaryDetailApi.as_view(),
        name="query-customer-detail",
    ),
]
