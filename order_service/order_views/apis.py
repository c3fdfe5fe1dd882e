"""The order service's query API (approach 5): read models only.

Every answer says how fresh it is: each item carries ``projected_at`` (when
the projection last wrote the row) and ``last_event_occurred_at`` (when the
last event applied to it happened), and the response carries the header
``X-Read-Model-Projected-At``. The read side is eventually consistent: an
order placed a moment ago, or a customer's new name, may not be here yet.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers

from order_service.order_views.selectors import (
    ORDER_VIEW_STATUSES,
    order_view_get,
    order_view_list,
    order_view_projected_at,
)
from service_kit.access import request_scope
from service_kit.api.query import ReadModelApi
from service_kit.api.staleness import (
    MIN_VERSION_PARAMETER,
    PROJECTED_AT_HEADER_PARAMETER,
    READ_MODEL_BEHIND_RESPONSE,
    read_model_id,
    read_model_id_parameter,
    read_model_page,
    read_model_row,
    read_model_row_reaching,
)


@extend_schema_serializer(component_name="OrderViewLine")
class OrderViewLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)


@extend_schema_serializer(component_name="OrderView")
class OrderViewOutputSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    order_version = serializers.IntegerField(
        help_text="The version of the order's last event projected here."
    )
    customer_id = serializers.UUIDField()
    customer_name = serializers.CharField(
        help_text="Empty until the customer's registration has been projected."
    )
    customer_email = serializers.CharField()
    customer_address = serializers.CharField()
    customer_deleted = serializers.BooleanField()
    status = serializers.ChoiceField(choices=ORDER_VIEW_STATUSES)
    cancel_reason = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = OrderViewLineOutputSerializer(many=True)
    placed_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    last_event_id = serializers.UUIDField(allow_null=True)
    last_event_type = serializers.CharField()
    last_event_occurred_at = serializers.DateTimeField(allow_null=True)
    projected_at = serializers.DateTimeField(allow_null=True)


class OrderViewListApi(ReadModelApi):
    class FilterSerializer(serializers.Serializer):
        customer_id = serializers.UUIDField(required=False)
        status = serializers.ChoiceField(choices=ORDER_VIEW_STATUSES, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "customer_id", OpenApiTypes.UUID, description="Only this customer's."
            ),
            OpenApiParameter("status", str, enum=list(ORDER_VIEW_STATUSES)),
            PROJECTED_AT_HEADER_PARAMETER,
        ],
        responses=OrderViewOutputSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = order_view_list(scope=request_scope(request), **filters.validated_data)
        return read_model_page(
            self,
            request,
            orders,
            OrderViewOutputSerializer,
            whole_model=order_view_projected_at,
        )


class OrderViewDetailApi(ReadModelApi):
    @extend_schema(
        parameters=[
            read_model_id_parameter("order_id"),
            MIN_VERSION_PARAMETER,
            PROJECTED_AT_HEADER_PARAMETER,
        ],
        responses={200: OrderViewOutputSerializer, 409: READ_MODEL_BEHIND_RESPONSE},
    )
    def get(self, request, order_id):
        scope = request_scope(request)
        order_id = read_model_id("order_id", order_id)
        # ?min_version= (read your writes) is the order's version.
        order = read_model_row_reaching(
            request,
            lambda: order_view_get(scope=scope, order_id=order_id),
            version_field="order_version",
        )
        return read_model_row(order, OrderViewOutputSerializer)
