from django.contrib import admin
from django.urls import include, path

from service_kit.api import urls as platform

urlpatterns = [
    path("admin/", admin.site.urls),
    *platform.health_routes(),
    *platform.metrics_routes(),
    path("api/orders/", include("order_service.orders.urls")),
    # HTML fragments of this service for the cockpit (order_service.ui).
    path("api/ui/orders/", include("order_service.ui.urls")),
    *platform.schema_routes(),
    path("api-auth/", include("rest_framework.urls")),
    # The query API, reading the read models (404 but under approach 5).
    *platform.query_api_routes("order_service.order_views"),
]

handler400, handler404, handler500 = platform.ERROR_HANDLERS
