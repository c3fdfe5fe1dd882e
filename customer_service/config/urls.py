from django.contrib import admin
from django.urls import include, path

from customer_service.token_apis import TokenObtainApi, TokenRefreshApi
from service_kit.api import urls as platform

urlpatterns = [
    path("admin/", admin.site.urls),
    *platform.health_routes(),
    *platform.metrics_routes(),
    # The customer service issues JWTs; both services verify them statelessly.
    path("api/auth/token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("api/auth/token/refresh/", TokenRefreshApi.as_view(), name="token-refresh"),
    path("api/customers/", include("customer_service.customers.urls")),
    # HTML fragments of this service for the cockpit (customer_service.ui).
    path("api/ui/customers/", include("customer_service.ui.urls")),
    *platform.schema_routes(),
    path("api-auth/", include("rest_framework.urls")),
    # The query API, reading the read models (404 but under approach 5).
    *platform.query_api_routes("customer_service.summaries"),
]

handler400, handler404, handler500 = platform.ERROR_HANDLERS
