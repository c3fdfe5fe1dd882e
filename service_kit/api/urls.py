"""The routes every service's URLconf shares, and its error handlers.

Both services serve the same platform routes (health, open to load balancers;
``/metrics``, to Prometheus with its bearer token; the OpenAPI schema and its
docs, to signed-in callers only) and the query API of their read-model app
(which answers 404, saying why, under any approach but 5).
What a learner should notice: the query process (``config/query_urls.py``)
and the full process (``config/urls.py``) are built from the same pieces, so
the query side serves exactly what the full process serves under
``api/query/``, and the JSON error answers are the same everywhere.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from service_kit.api.health import HealthApi
from service_kit.api.metrics import MetricsView

# Django looks handler400, handler404 and handler500 up in the root URLconf:
# each service's sets them from these, in that order.
ERROR_HANDLERS = (
    "service_kit.api.errors.bad_request",
    "service_kit.api.errors.not_found",
    "service_kit.api.errors.server_error",
)


def health_routes() -> list:
    return [path("api/health/", HealthApi.as_view(), name="health")]


def metrics_routes() -> list:
    """``/metrics``, where Prometheus looks by default (no trailing slash)."""
    return [path("metrics", MetricsView.as_view(), name="metrics")]


# The schema and its docs are an API like any other: answered to a signed-in
# caller only (drf-spectacular's default is anyone). They hold no customer's
# data, so any signed-in user may read them; the docs page fetches the schema
# with the browser's session (sign in at /api-auth/login/ first).
SCHEMA_PERMISSIONS = [IsAuthenticated]


def schema_routes() -> list:
    return [
        path(
            "api/schema/",
            SpectacularAPIView.as_view(permission_classes=SCHEMA_PERMISSIONS),
            name="schema",
        ),
        path(
            "api/docs/",
            SpectacularSwaggerView.as_view(
                url_name="schema", permission_classes=SCHEMA_PERMISSIONS
            ),
            name="docs",
        ),
    ]


def query_api_routes(read_model_app: str) -> list:
    """The query API, reading the read models (approach 5)."""
    return [path("api/query/", include(f"{read_model_app}.urls"))]


def query_side_routes(read_model_app: str) -> list:
    """All a query process serves (``QUERY_SIDE_ONLY=true``, approach 5).

    The paper's query service: health, metrics, the schema and the query API,
    nothing that writes. A system check refuses it under any approach but
    cqrs_es.
    """
    return [
        *health_routes(),
        *metrics_routes(),
        *schema_routes(),
        *query_api_routes(read_model_app),
    ]
