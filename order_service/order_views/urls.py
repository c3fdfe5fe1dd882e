"""Query routes of the order service (approach 5): GETs on read models only.

Mounted under ``api/query/`` by ``order_service.config.urls`` (next to the command
API) and by ``order_service.config.query_urls`` (the query side as a process of its
own).
"""

from django.urls import path

from order_service.order_views import apis

urlpatterns = [
    path("orders/", apis.OrderViewListApi.as_view(), name="query-order-list"),
    # ``order_id`` is matched as any segment and checked by the API, so that
    # "abc" is a 400 that says why, not a bare 404.
    path(
        "orders/<str:order_id>/",
        apis.OrderViewDetailApi.as_view(),
        name="query-order-detail",
    ),
]
