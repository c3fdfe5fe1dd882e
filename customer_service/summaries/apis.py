"""The customer service's query API (approach 5): read models only.

Every answer says how fresh it is: each item carries ``projected_at`` (when
the projection last wrote the row) and ``last_event_occurred_at`` (when the
last event applied to it happened), and the response carries the header
``X-Read-Model-Projected-At``. The read side is eventually consistent: a
customer registered a moment ago may not be here yet.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers

from customer_service.summaries.selectors import (
    CUSTOMER_SUMMARY_ORDERINGS,
    customer_summary_get,
    customer_summary_list,
    customer_summary_projected_at,
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

DELETED_CHOICES = {"false": False, "true": True, "all": None}


@extend_schema_serializer(component_name="CustomerSummary")
class CustomerSummaryOutputSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    name = serializers.CharField(
        help_text="Empty until the customer's registration has been projected."
    )
    email = serializers.CharField()
    address = serializers.CharField()
    registered = serializers.BooleanField(
        help_text="False while the read side knows the customer only from orders."
    )
    deleted = serializers.BooleanField()
    customer_version = serializers.IntegerField(
        help_text="The version of the customer's last event projected here."
    )
    order_count = serializers.IntegerField()
    open_order_count = serializers.IntegerField()
    lifetime_value = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        help_text="The sum of the totals of the orders not cancelled.",
    )
    last_order_at = serializers.DateTimeField(allow_null=True)
    last_event_id = serializers.UUIDField(allow_null=True)
    last_event_type = serializers.CharField()
    last_event_occurred_at = serializers.DateTimeField(allow_null=True)
    projected_at = serializers.DateTimeField(allow_null=True)


class CustomerSummaryListApi(ReadModelApi):
    class FilterSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254, required=False)
        name = serializers.CharField(max_length=200, required=False)
        deleted = serializers.ChoiceField(
            choices=list(DELETED_CHOICES), default="false"
        )
        ordering = serializers.ChoiceField(
            choices=CUSTOMER_SUMMARY_ORDERINGS, required=False
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("email", str, description="Exact email, any case."),
            OpenApiParameter("name", str, description="Part of the name, any case."),
            OpenApiParameter(
                "deleted",
                str,
                enum=list(DELETED_CHOICES),
                default="false",
                description="false: hide deleted customers; true: only them; all.",
            ),
            OpenApiParameter(
                "ordering",
                str,
                enum=list(CUSTOMER_SUMMARY_ORDERINGS),
                description="Sort key; a leading '-' sorts descending.",
            ),
            PROJECTED_AT_HEADER_PARAMETER,
        ],
        responses=CustomerSummaryOutputSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        summaries = customer_summary_list(
            scope=request_scope(request),
            email=data.get("email"),
            name=data.get("name"),
            deleted=DELETED_CHOICES[data["deleted"]],
            ordering=data.get("ordering"),
        )
        return read_model_page(
            self,
            request,
            summaries,
            CustomerSummaryOutputSerializer,
            whole_model=customer_summary_projected_at,
        )


class CustomerSummaryDetailApi(ReadModelApi):
    @extend_schema(
        parameters=[
            read_model_id_parameter("customer_id"),
            MIN_VERSION_PARAMETER,
            PROJECTED_AT_HEADER_PARAMETER,
        ],
        responses={
            200: CustomerSummaryOutputSerializer,
            409: READ_MODEL_BEHIND_RESPONSE,
        },
    )
    def get(self, request, customer_id):
        scope = request_scope(request)
        customer_id = read_model_id("customer_id", customer_id)
        # ?min_version= (read your writes) is the customer's version.
        summary = read_model_row_reaching(
            request,
            lambda: customer_summary_get(scope=scope, customer_id=customer_id),
            version_field="customer_version",
        )
        return read_model_row(summary, CustomerSummaryOutputSerializer)
