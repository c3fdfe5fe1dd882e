"""The customer service's HTTP API: one small class per operation."""

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from customer_service.customers.selectors import customer_get, customer_list
from customer_service.customers.services import (
    customer_delete,
    customer_register,
    customer_update,
)


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    address = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CustomerListApi(APIView):
    pagination_class = LimitOffsetPagination

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
            OpenApiParameter("email", str, description="Exact email, any case."),
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
        customers = customer_list(**filters.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(customers, request, view=self)
        return paginator.get_paginated_response(
            CustomerOutputSerializer(page, many=True).data
        )


class CustomerRegisterApi(APIView):
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
        customer = customer_get(customer_id=customer_id)
        return Response(CustomerOutputSerializer(customer).data)


class CustomerUpdateApi(APIView):
    @extend_schema_serializer(component_name="CustomerUpdateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        email = serializers.EmailField(max_length=254, required=False)
        address = serializers.CharField(max_length=500, required=False)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(
                    "give at least one of name, email, address"
                )
            return attrs

    @extend_schema(request=InputSerializer, responses=CustomerOutputSerializer)
    def post(self, request, customer_id):
        customer = customer_get(customer_id=customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_update(customer=customer, **serializer.validated_data)
        return Response(CustomerOutputSerializer(customer).data)


class CustomerDeleteApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, customer_id):
        customer = customer_get(customer_id=customer_id)
        customer_delete(customer=customer)
        return Response(status=status.HTTP_204_NO_CONTENT)
