"""The customer fragments: one small API class per fragment.

Each reads through ``customers.selectors`` and writes through
``customers.services``, shaped by the JSON API's own serializers, so a
fragment shows what the JSON API answers and refuses what it refuses.
"""

from rest_framework import status

from customer_service.customers.apis import (
    CustomerOutputSerializer,
    CustomerRegisterApi,
)
from customer_service.customers.selectors import customer_get, customer_list
from customer_service.customers.services import customer_register
from customer_service.ui import FRAGMENT_VERSION, GATEWAY_PATH
from service_kit.access import request_scope
from service_kit.fragments import FragmentApi, FragmentFormApi, FragmentPage

DETAIL_TEMPLATE = "customer_ui/customer_detail.html"


class CustomerFragmentApi(FragmentApi):
    service = "customer"
    version = FRAGMENT_VERSION
    gateway_path = GATEWAY_PATH


class CustomerListFragmentApi(CustomerFragmentApi):
    fragment_name = "customer-list"
    template_name = "customer_ui/customer_list.html"

    def get(self, request):
        page = FragmentPage(self, customer_list(scope=request_scope(request)))
        customers = CustomerOutputSerializer(page.items, many=True).data
        return self.fragment({"page": page, "customers": customers})


class CustomerDetailFragmentApi(CustomerFragmentApi):
    fragment_name = "customer-detail"
    template_name = DETAIL_TEMPLATE

    def get(self, request, customer_id):
        customer = customer_get(scope=request_scope(request), customer_id=customer_id)
        return self.fragment({"customer": CustomerOutputSerializer(customer).data})


class CustomerRegisterFragmentApi(CustomerFragmentApi, FragmentFormApi):
    """The registration form; a registration answers the new customer's detail."""

    fragment_name = "customer-register"
    template_name = "customer_ui/customer_register.html"
    # Staff only, as the JSON API (anyone in scope may see the empty form).
    permission_classes = CustomerRegisterApi.permission_classes

    def post(self, request):
        serializer = CustomerRegisterApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_register(**serializer.validated_data)
        return self.fragment(
            {"customer": CustomerOutputSerializer(customer).data},
            status_code=status.HTTP_201_CREATED,
            template_name=DETAIL_TEMPLATE,
            fragment_name=CustomerDetailFragmentApi.fragment_name,
        )
