"""The order fragments: one small API class per fragment.

Each reads through ``orders.selectors`` and writes through
``orders.services``, shaped by the JSON API's own serializers, so a fragment
shows what the JSON API answers and refuses what it refuses.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import status

from order_service.orders.apis import (
    OrderListApi,
    OrderOutputSerializer,
    OrderPlaceApi,
)
from order_service.orders.selectors import order_customers, order_get, order_list
from order_service.orders.services import LineRequest, order_place
from order_service.ui import FRAGMENT_VERSION, GATEWAY_PATH
from order_service.ui.place_form import (
    errors_by_row,
    form_rows,
    placement_from,
    submitted_rows,
)
from service_kit.access import request_scope
from service_kit.fragments import FragmentApi, FragmentFormApi, FragmentPage
from shared_events.errors import ApplicationError

DETAIL_TEMPLATE = "order_ui/order_detail.html"


def _shown(orders, *, many: bool, customers=None):
    """The orders as the JSON API shows them (customers' names included)."""
    if customers is None:
        customers = order_customers(orders=list(orders) if many else [orders])
    return OrderOutputSerializer(
        orders, many=many, context={"customers": customers}
    ).data


class OrderFragmentApi(FragmentApi):
    service = "order"
    version = FRAGMENT_VERSION
    gateway_path = GATEWAY_PATH


class OrderListFragmentApi(OrderFragmentApi):
    fragment_name = "order-list"
    template_name = "order_ui/order_list.html"

    def get(self, request):
        filters = OrderListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = order_list(scope=request_scope(request), **filters.validated_data)
        page = FragmentPage(self, orders)
        return self.fragment({"page": page, "orders": _shown(page.items, many=True)})


class OrderDetailFragmentApi(OrderFragmentApi):
    fragment_name = "order-detail"
    template_name = DETAIL_TEMPLATE

    def get(self, request, order_id):
        order = order_get(scope=request_scope(request), order_id=order_id)
        return self.fragment({"order": _shown(order, many=False)})


class OrderPlaceFragmentApi(OrderFragmentApi, FragmentFormApi):
    """The place form; a placement answers the new order's detail."""

    fragment_name = "order-place"
    template_name = "order_ui/order_place.html"
    row_of_line: list[int] = []

    def post(self, request):
        placement = placement_from(request.data)
        self.row_of_line = placement.row_of_line
        serializer = OrderPlaceApi.InputSerializer(data=placement.body)
        serializer.is_valid(raise_exception=True)
        customer_id = serializer.validated_data["customer_id"]
        if not request_scope(request).allows(customer_id):
            # As the JSON API says it: nothing about other customers leaks.
            raise ApplicationError(
                f"no customer with id {customer_id}", field="customer_id"
            )
        placed = order_place(
            customer_id=customer_id,
            lines=[LineRequest(**line) for line in serializer.validated_data["lines"]],
        )
        customers = {placed.order.customer_id: placed.customer}
        return self.fragment(
            {"order": _shown(placed.order, many=False, customers=customers)},
            status_code=status.HTTP_201_CREATED,
            template_name=DETAIL_TEMPLATE,
            fragment_name=OrderDetailFragmentApi.fragment_name,
        )

    def form_initial(self) -> dict[str, Any]:
        # A customer user places its own customer's orders: filled in.
        own = request_scope(self.request).customer_id
        return {"customer_id": str(own) if own else "", "rows": {}}

    def form_values(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, Mapping):
            return {"customer_id": "", "rows": {}}
        return {
            "customer_id": str(data.get("customer_id") or ""),
            "rows": submitted_rows(data),
        }

    def form_context(
        self, *, values: Mapping[str, Any], errors: Mapping[str, str]
    ) -> dict[str, Any]:
        return {
            "values": values,
            "errors": errors,
            "rows": form_rows(values.get("rows", {}), errors),
        }

    def refused(self, status_code: int, data: Any):
        return super().refused(status_code, errors_by_row(data, self.row_of_line))
