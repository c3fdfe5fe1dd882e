"""The routes every service's URLconf shares, and its error handlers.

Both services serve the same platform routes (health, the OpenAPI schema and
its docs) and, under approach 5 only, the query API of their read-model app.
What a learner should notice: the query process (``config/query_urls.py``)
and the full process (``config/urls.py``) are built from the same pieces, so
the query side serves exactly what the full process serves under
``api/query/``, and the JSON error answers are the same everywhere.
"""

from django.apps import apps
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
    """Approach 5 (cqrs_es) only: the query API, reading the read models.

    Empty when ``read_model_app`` is not installed (any other approach).
    """
    if not apps.is_installed(read_model_app):
        return []
    return [path("api/query/", include(f"{read_model_app}.urls"))]


def query_side_routes(read_model_app: str) -> list:
    """All a query process serves (``QUERY_SIDE_ONLY=true``, approach 5).

    The paper's query service: health, the schema and the query API, nothing
    that writes. Without the read model (any approach but cqrs_es) only
    health and the schema.
    """
    return [*health_routes(), *schema_routes(), *query_api_routes(read_model_app)]
