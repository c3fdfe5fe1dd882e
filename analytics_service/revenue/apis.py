"""The analytics service's HTTP API: revenue per customer per day.

Authenticated as the other services are (an API token of this service, or
the JWT the customer service issues, verified by its signature alone), and
scoped the same way: staff see every customer, a customer's user its own.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from analytics_service.revenue.selectors import daily_revenue_list
from service_kit.access import request_scope
from service_kit.api.pagination import CappedLimitOffsetPagination, paginated_response


class DailyRevenueListApi(APIView):
    pagination_class = CappedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        customer_id = serializers.UUIDField(required=False)
        day_from = serializers.DateField(required=False)
        day_to = serializers.DateField(required=False)

        def validate(self, attrs):
            day_from, day_to = attrs.get("day_from"), attrs.get("day_to")
            if day_from and day_to and day_from > day_to:
                raise serializers.ValidationError(
                    {"day_to": "must be on or after day_from"}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        customer_id = serializers.UUIDField()
        day = serializers.DateField()
        order_count = serializers.IntegerField()
        revenue = serializers.DecimalField(max_digits=16, decimal_places=2)

    @extend_schema(
        parameters=[
            OpenApiParameter("customer_id", str, description="Only this customer's."),
            OpenApiParameter(
                "day_from", str, description="From this UTC day (YYYY-MM-DD)."
            ),
            OpenApiParameter(
                "day_to", str, description="Up to this UTC day, included."
            ),
        ],
        responses={200: OutputSerializer(many=True)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = daily_revenue_list(
            scope=request_scope(request), **filters.validated_data
        )
        return paginated_response(
            self,
            request,
            rows,
            lambda page: self.OutputSerializer(page, many=True).data,
        )
