"""The order service's HTTP API: one small class per operation."""

from decimal import Decimal

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from order_service.orders.models import OrderStatus
from order_service.orders.selectors import (
    order_as_of,
    order_customers,
    order_get,
    order_history,
    order_list,
)
from order_service.orders.services import LineRequest, order_cancel, order_place
from service_kit.access import request_scope
from service_kit.api.history import AggregateAsOfApi, AggregateHistoryApi, as_of_schema
from service_kit.api.pagination import CappedLimitOffsetPagination, paginated_response
from service_kit.api.serializers import (
    CONFLICT_RESPONSE,
    DEPENDENCY_UNAVAILABLE_RESPONSE,
    NOT_FOUND_RESPONSE,
    expected_version_field,
)
from shared_events.errors import ApplicationError

MAX_LINES_PER_ORDER = 100


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0")
    )


class OrderLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderLineValueOutputSerializer(serializers.Serializer):
    """A line as the aggregate folds it (``OrderLineValue``), not a table row."""

    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, source="total"
    )


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(
        help_text="One more per recorded event; send it back as expected_version."
    )
    customer_id = serializers.UUIDField()
    customer_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = OrderLineOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def get_customer_name(self, order) -> str | None:
        customer = self.context["customers"].get(order.customer_id)
        return customer.name if customer else None


def _render(orders, *, many: bool, customers=None):
    """The orders as the API shows them; ``customers`` when already known."""
    if customers is None:
        customers = order_customers(orders=list(orders) if many else [orders])
    context = {"customers": customers}
    return OrderOutputSerializer(orders, many=many, context=context).data


class OrderListApi(APIView):
    pagination_class = CappedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        customer_id = serializers.UUIDField(required=False)
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("customer_id", str, description="Only this customer's."),
            OpenApiParameter("status", str, enum=OrderStatus.values),
        ],
        responses={
            200: OrderOutputSerializer(many=True),
            503: DEPENDENCY_UNAVAILABLE_RESPONSE,
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = order_list(scope=request_scope(request), **filters.validated_data)
        return paginated_response(
            self, request, orders, lambda page: _render(page, many=True)
        )


class OrderPlaceApi(APIView):
    class InputSerializer(serializers.Serializer):
        customer_id = serializers.UUIDField()
        lines = OrderLineInputSerializer(
            many=True, min_length=1, max_length=MAX_LINES_PER_ORDER
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: OrderOutputSerializer, 503: DEPENDENCY_UNAVAILABLE_RESPONSE},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scope = request_scope(request)
        customer_id = serializer.validated_data["customer_id"]
        if not scope.allows(customer_id):
            # Said as for an unknown customer: nothing about others leaks.
            raise ApplicationError(
                f"no customer with id {customer_id}", field="customer_id"
            )
        placed = order_place(
            customer_id=customer_id,
            lines=[LineRequest(**line) for line in serializer.validated_data["lines"]],
        )
        # Answered from what was written and the customer it was checked
        # against: nothing is read back.
        body = _render(
            placed.order,
            many=False,
            customers={placed.order.customer_id: placed.customer},
        )
        return Response(body, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(
        responses={200: OrderOutputSerializer, 503: DEPENDENCY_UNAVAILABLE_RESPONSE}
    )
    def get(self, request, order_id):
        return Response(
            _render(
                order_get(scope=request_scope(request), order_id=order_id),
                many=False,
            )
        )


class OrderCancelApi(APIView):
    @extend_schema_serializer(component_name="OrderCancelInput")
    class InputSerializer(serializers.Serializer):
        expected_version = expected_version_field()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OrderOutputSerializer,
            404: NOT_FOUND_RESPONSE,
            409: CONFLICT_RESPONSE,
            503: DEPENDENCY_UNAVAILABLE_RESPONSE,
        },
    )
    def post(self, request, order_id):
        scope = request_scope(request)
        order = order_get(scope=scope, order_id=order_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_cancel(order=order, **serializer.validated_data)
        return Response(_render(order_get(scope=scope, order_id=order.id), many=False))


class OrderHistoryApi(AggregateHistoryApi):
    """The events an order recorded, oldest first; a rejected placement's too.

    Kept by the event-sourced approaches only (elsewhere 404, saying why).
    """

    selector = staticmethod(order_history)


@extend_schema_serializer(component_name="OrderAsOf")
class OrderAsOfOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    customer_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = OrderLineValueOutputSerializer(many=True)
    cancel_reason = serializers.CharField()
    reject_reason = serializers.CharField()


@as_of_schema(OrderAsOfOutputSerializer)
class OrderAsOfApi(AggregateAsOfApi):
    """The order as it was at one version: its events folded up to there.

    A rejected placement folds to ``status: rejected`` with no lines: the
    event store keeps refused commands, the order table does not.
    """

    selector = staticmethod(order_as_of)
    output_serializer = OrderAsOfOutputSerializer
