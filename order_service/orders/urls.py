"""Order routes. Commands are POSTs to verb URLs, reads are GETs."""

from django.urls import path

from order_service.orders import apis

urlpatterns = [
    path("", apis.OrderListApi.as_view(), name="order-list"),
    path("place/", apis.OrderPlaceApi.as_view(), name="order-place"),
    path("<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path(
        "<uuid:order_id>/history/", apis.OrderHistoryApi.as_view(), name="order-history"
    ),
    # ``version`` is matched as any segment and checked by the API, so that
    # "0" or "abc" is a 400 that says why, not a bare 404.
    path(
        "<uuid:order_id>/as-of/<str:version>/",
        apis.OrderAsOfApi.as_view(),
        name="order-as-of",
    ),
]
