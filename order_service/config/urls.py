from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from service_kit.api.health import HealthApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", HealthApi.as_view(), name="health"),
    path("api/orders/", include("order_service.orders.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api-auth/", include("rest_framework.urls")),
]
# Approach 5 (cqrs_es) only: the query API, reading the read models.
if apps.is_installed("order_service.order_views"):
    urlpatterns.append(path("api/query/", include("order_service.order_views.urls")))

handler400 = "service_kit.api.errors.bad_request"
handler404 = "service_kit.api.errors.not_found"
handler500 = "service_kit.api.errors.server_error"
