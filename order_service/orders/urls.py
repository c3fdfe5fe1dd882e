"""Order routes. Commands are POSTs to verb URLs, reads are GETs."""

from django.urls import path

from order_service.orders import apis
from service_kit.api.history import history_routes

urlpatterns = [
    path("", apis.OrderListApi.as_view(), name="order-list"),
    path("place/", apis.OrderPlaceApi.as_view(), name="order-place"),
    path("<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    *history_routes(
        "<uuid:order_id>",
        "order",
        history=apis.OrderHistoryApi,
        as_of=apis.OrderAsOfApi,
    ),
]
