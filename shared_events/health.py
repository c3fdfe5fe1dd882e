"""The health endpoint: the only API open without authentication."""

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    """Open without authentication or throttling, for load balancers; answers
    503 "degraded" when the database cannot be reached."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "service": serializers.CharField(),
                "approach": serializers.CharField(),
                "database": serializers.CharField(),
            },
        )
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            database = "ok"
        except Exception as error:  # the health check reports, never raises
            database = f"unavailable: {error.__class__.__name__}"
        healthy = database == "ok"
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "service": settings.SERVICE_NAME,
                "approach": settings.ARCHITECTURE_APPROACH,
                "database": database,
            },
            status=200 if healthy else 503,
        )
