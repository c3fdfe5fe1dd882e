"""The health endpoint: the only API open without authentication."""

from django.conf import settings
from django.db import connections
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    """Open without authentication or throttling, for load balancers; answers
    503 "degraded" when a database the process opens (the service's own, its
    read database under cqrs_es; the query process opens only the read one)
    cannot be reached. ``database`` is the state of the process's own: the
    write database, or the read database in the query process."""

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
                "databases": serializers.DictField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        databases = {alias: _reachable(alias) for alias in _opened_databases()}
        healthy = all(state == "ok" for state in databases.values())
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "service": settings.SERVICE_NAME,
                "approach": settings.ARCHITECTURE_APPROACH,
                "database": next(iter(databases.values())),
                "databases": databases,
            },
            status=200 if healthy else 503,
        )


def _opened_databases() -> list[str]:
    """The aliases this process uses: not the query process's dummy default."""
    return [
        alias
        for alias, config in settings.DATABASES.items()
        if config.get("ENGINE", "django.db.backends.dummy")
        != "django.db.backends.dummy"
    ]


def _reachable(alias: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # the health check reports, never raises
        return f"unavailable: {error.__class__.__name__}"
    return "ok"
