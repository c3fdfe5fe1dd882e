"""Fragment routes, under ``/api/ui/customers/`` (the gateway's ``/ui/customers/``)."""

from django.urls import path

from customer_service.ui import apis

urlpatterns = [
    path("", apis.CustomerListFragmentApi.as_view(), name="customer-ui-list"),
    path(
        "register/",
        apis.CustomerRegisterFragmentApi.as_view(),
        name="customer-ui-register",
    ),
    path(
        "<uuid:customer_id>/",
        apis.CustomerDetailFragmentApi.as_view(),
        name="customer-ui-detail",
    ),
]
