"""Customer routes. Commands are POSTs to verb URLs, reads are GETs."""

from django.urls import path

from customer_service.customers import apis
from service_kit.api.history import history_routes

urlpatterns = [
    path("", apis.CustomerListApi.as_view(), name="customer-list"),
    path("register/", apis.CustomerRegisterApi.as_view(), name="customer-register"),
    path(
        "<uuid:customer_id>/", apis.CustomerDetailApi.as_view(), name="customer-detail"
    ),
    path(
        "<uuid:customer_id>/update/",
        apis.CustomerUpdateApi.as_view(),
        name="customer-update",
    ),
    path(
        "<uuid:customer_id>/delete/",
        apis.CustomerDeleteApi.as_view(),
        name="customer-delete",
    ),
    *history_routes(
        "<uuid:customer_id>",
        "customer",
        history=apis.CustomerHistoryApi,
        as_of=apis.CustomerAsOfApi,
    ),
]
