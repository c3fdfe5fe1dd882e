"""The routes every service's URLconf shares, and its error handlers.

Both services serve the same platform routes (health, the OpenAPI schema and
its docs) and the query API of their read-model app (which answers 404,
saying why, under any approach but 5).
What a learner should notice: the query process (``config/query_urls.py``)
and the full process (``config/urls.py``) are built from the same pieces, so
the query side serves exactly what the full process serves under
``api/query/``, and the JSON error answers are the same everywhere.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from service_kit.api.health import HealthApi

# Django looks handler400, handler404 and handler500 up in the root URLconf:
# each service's sets them from these, in that order.
ERROR_HANDLERS = (
    "service_kit.api.errors.bad_request",
    "service_kit.api.errors.not_found",
    "service_kit.api.errors.server_error",
)


def health_routes() -> list:
    return [path("api/health/", HealthApi.as_view(), name="health")]


def schema_routes() -> list:
    return [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(
            "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"
        ),
    ]


def query_api_routes(read_model_app: str) -> list:
    """The query API, reading the read models (approach 5)."""
    return [path("api/query/", include(f"{read_model_app}.urls"))]


def query_side_routes(read_model_app: str) -> list:
    """All a query process serves (``QUERY_SIDE_ONLY=true``, approach 5).

    The paper's query service: health, the schema and the query API, nothing
    that writes. A system check refuses it under any approach but cqrs_es.
    """
    return [*health_routes(), *schema_routes(), *query_api_routes(read_model_app)]
