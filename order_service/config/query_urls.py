"""The order service's query side as a process of its own (approach 5).

The paper's query service: health, the API schema and the query API, and
nothing that writes. A process started with ``QUERY_SIDE_ONLY=true`` serves
these routes instead of ``order_service.config.urls``; the settings choose:

    ROOT_URLCONF = (
        "order_service.config.query_urls"
        if QUERY_SIDE_ONLY
        else "order_service.config.urls"
    )

Without the read model (any approach but cqrs_es) only health and the
schema are served.
"""

from django.apps import apps
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from service_kit.api.health import HealthApi

urlpatterns = [
    path("api/health/", HealthApi.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
if apps.is_installed("order_service.order_views"):
    urlpatterns.append(path("api/query/", include("order_service.order_views.urls")))

handler400 = "service_kit.api.errors.bad_request"
handler404 = "service_kit.api.errors.not_found"
handler500 = "service_kit.api.errors.server_error"
