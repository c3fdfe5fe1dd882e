"""Customer routes. Commands are POSTs to verb URLs, reads are GETs."""

from django.urls import path

from customer_service.customers import apis

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
    path(
        "<uuid:customer_id>/history/",
        apis.CustomerHistoryApi.as_view(),
        name="customer-history",
    ),
    # ``version`` is matched as any segment and checked by the API, so that
    # "0" or "abc" is a 400 that says why, not a bare 404.
    path(
        "<uuid:customer_id>/as-of/<str:version>/",
        apis.CustomerAsOfApi.as_view(),
        name="customer-as-of",
    ),
]
