"""Fragment routes, under ``/api/ui/orders/`` (the gateway's ``/ui/orders/``)."""

from django.urls import path

from order_service.ui import apis

urlpatterns = [
    path("", apis.OrderListFragmentApi.as_view(), name="order-ui-list"),
    path("place/", apis.OrderPlaceFragmentApi.as_view(), name="order-ui-place"),
    path(
        "<uuid:order_id>/",
        apis.OrderDetailFragmentApi.as_view(),
        name="order-ui-detail",
    ),
]
