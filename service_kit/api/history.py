"""The two questions every aggregate's event history answers, asked over HTTP.

``GET <id>/history/`` lists the events an aggregate recorded, oldest first;
``GET <id>/as-of/<version>/`` folds them up to one version. What a learner
should notice: the plumbing (pagination, the version check, 404 where the
approach keeps no history) is the same for customers and orders, so it is
written once here. A service's API class names only its selector (called
with the URL's id, e.g. ``customer_id=``) and, for as-of, its output;
``history_routes`` gives both their URLs.

The base classes have no docstring on purpose: drf-spectacular would show it
as the description of a subclass that has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.access import request_scope
from service_kit.api.pagination import CappedLimitOffsetPagination, paginated_response
from service_kit.api.serializers import (
    AS_OF_VERSION_PARAMETER,
    HISTORY_NOT_FOUND_RESPONSE,
    AsOfVersionSerializer,
    StoredEventOutputSerializer,
)


class AggregateHistoryApi(APIView):
    # The subclass's selector: (scope=, <aggregate>_id=) -> stored events.
    selector: Callable[..., Any]
    pagination_class = CappedLimitOffsetPagination

    @extend_schema(
        responses={
            200: StoredEventOutputSerializer(many=True),
            404: HISTORY_NOT_FOUND_RESPONSE,
        },
    )
    def get(self, request, **aggregate_id):
        events = self.selector(scope=request_scope(request), **aggregate_id)
        return paginated_response(
            self,
            request,
            events,
            lambda page: StoredEventOutputSerializer(page, many=True).data,
        )


def as_of_schema(output_serializer: type[serializers.Serializer]):
    """The OpenAPI description of an as-of API answering ``output_serializer``."""
    return extend_schema(
        parameters=[AS_OF_VERSION_PARAMETER],
        responses={200: output_serializer, 404: HISTORY_NOT_FOUND_RESPONSE},
    )


class AggregateAsOfApi(APIView):
    # The subclass's selector: (scope=, <aggregate>_id=, version=) -> state,
    # and the serializer of that state (the one given to ``as_of_schema``).
    selector: Callable[..., Any]
    output_serializer: type[serializers.Serializer]

    def get(self, request, version, **aggregate_id):
        serializer = AsOfVersionSerializer(data={"version": version})
        serializer.is_valid(raise_exception=True)
        state = self.selector(
            scope=request_scope(request),
            version=serializer.validated_data["version"],
            **aggregate_id,
        )
        return Response(self.output_serializer(state).data)


def history_routes(
    id_segment: str,
    name: str,
    *,
    history: type[AggregateHistoryApi],
    as_of: type[AggregateAsOfApi],
) -> list:
    """``<id>/history/`` and ``<id>/as-of/<version>/``, named ``<name>-history``
    and ``<name>-as-of``; ``id_segment`` is the id's converter, e.g.
    ``<uuid:order_id>``."""
    return [
        path(f"{id_segment}/history/", history.as_view(), name=f"{name}-history"),
        # ``version`` is matched as any segment and checked by the API, so that
        # "0" or "abc" is a 400 that says why, not a bare 404.
        path(
            f"{id_segment}/as-of/<str:version>/",
            as_of.as_view(),
            name=f"{name}-as-of",
        ),
    ]
