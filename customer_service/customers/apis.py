"""The customer service's HTTP API: one small class per operation."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from customer_service.customers.selectors import (
    customer_as_of,
    customer_get,
    customer_history,
    customer_list,
)
from customer_service.customers.services import (
    customer_delete,
    customer_register,
    customer_update,
)
from service_kit.access import StaffOnlyForCommand, request_scope
from service_kit.api.history import AggregateAsOfApi, AggregateHistoryApi, as_of_schema
from service_kit.api.pagination import CappedLimitOffsetPagination, paginated_response
from service_kit.api.serializers import (
    CONFLICT_RESPONSE,
    NOT_FOUND_RESPONSE,
    expected_version_field,
)


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(
        help_text="One more per recorded event; send it back as expected_version."
    )
    name = serializers.CharField()
    email = serializers.EmailField()
    address = serializers.CharField()
    credit_limit = serializers.SerializerMethodField(
        help_text="What this customer's open orders may add up to."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_credit_limit(self, customer) -> str:
        return f"{settings.CREDIT_LIMIT:.2f}"


class CustomerListApi(APIView):
    pagination_class = CappedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, max_length=100
        )
        email = serializers.EmailField(required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ids",
                str,
                description="Comma-separated customer ids (at most 100).",
            ),
            OpenApiParameter(
                "email", OpenApiTypes.EMAIL, description="Exact email, any case."
            ),
        ],
        responses=CustomerOutputSerializer(many=True),
    )
    def get(self, request):
        raw = request.query_params
        data = {}
        if "ids" in raw:
            data["ids"] = [
                part.strip() for part in raw["ids"].split(",") if part.strip()
            ]
        if "email" in raw:
            data["email"] = raw["email"]
        filters = self.FilterSerializer(data=data)
        filters.is_valid(raise_exception=True)
        customers = customer_list(
            scope=request_scope(request), **filters.validated_data
        )
        return paginated_response(
            self,
            request,
            customers,
            lambda page: CustomerOutputSerializer(page, many=True).data,
        )


class CustomerRegisterApi(APIView):
    """Register a customer: staff only (a customer user has its record already)."""

    permission_classes = [*APIView.permission_classes, StaffOnlyForCommand]

    @extend_schema_serializer(component_name="CustomerRegisterInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        email = serializers.EmailField(max_length=254)
        address = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={201: CustomerOutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_register(**serializer.validated_data)
        return Response(
            CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED
        )


class CustomerDetailApi(APIView):
    @extend_schema(responses=CustomerOutputSerializer)
    def get(self, request, customer_id):
        customer = customer_get(scope=request_scope(request), customer_id=customer_id)
        return Response(CustomerOutputSerializer(customer).data)


class CustomerUpdateApi(APIView):
    @extend_schema_serializer(component_name="CustomerUpdateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        email = serializers.EmailField(max_length=254, required=False)
        address = serializers.CharField(max_length=500, required=False)
        expected_version = expected_version_field()

        def validate(self, attrs):
            if not attrs.keys() & {"name", "email", "address"}:
                raise serializers.ValidationError(
                    "give at least one of name, email, address"
                )
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={
            200: CustomerOutputSerializer,
            404: NOT_FOUND_RESPONSE,
            409: CONFLICT_RESPONSE,
        },
    )
    def post(self, request, customer_id):
        customer = customer_get(scope=request_scope(request), customer_id=customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_update(customer=customer, **serializer.validated_data)
        return Response(CustomerOutputSerializer(customer).data)


class CustomerDeleteApi(APIView):
    @extend_schema_serializer(component_name="CustomerDeleteInput")
    class InputSerializer(serializers.Serializer):
        expected_version = expected_version_field()
        open_orders = serializers.ChoiceField(
            choices=["refuse", "cancel"],
            default="refuse",
            help_text=(
                "What to do while open orders hold the customer's credit (known "
                "to the customer service under event sourcing): refuse the "
                "deletion (409, recorded as CustomerDeletionRejected), or delete "
                "and let the order service cancel them."
            ),
        )

    @extend_schema(
        request=InputSerializer,
        responses={204: None, 404: NOT_FOUND_RESPONSE, 409: CONFLICT_RESPONSE},
    )
    def post(self, request, customer_id):
        customer = customer_get(scope=request_scope(request), customer_id=customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_delete(
            customer=customer,
            expected_version=serializer.validated_data.get("expected_version"),
            cancel_open_orders=serializer.validated_data["open_orders"] == "cancel",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerHistoryApi(AggregateHistoryApi):
    """The events a customer recorded, oldest first; a deleted one's too.

    Kept by the event-sourced approaches only (elsewhere 404, saying why).
    """

    selector = staticmethod(customer_history)


@extend_schema_serializer(component_name="CustomerAsOf")
class CustomerAsOfOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    address = serializers.CharField()
    deleted = serializers.BooleanField()
    credit_reserved = serializers.DecimalField(max_digits=16, decimal_places=2)
    reservations = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        help_text="Credit held by each open order, by order id (the credit saga).",
    )


@as_of_schema(CustomerAsOfOutputSerializer)
class CustomerAsOfApi(AggregateAsOfApi):
    """The customer as it was at one version: its events folded up to there."""

    selector = staticmethod(customer_as_of)
    output_serializer = CustomerAsOfOutputSerializer
