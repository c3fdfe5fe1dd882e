from django.contrib import admin
from django.urls import include, path

from service_kit.api import urls as platform

urlpatterns = [
    path("admin/", admin.site.urls),
    *platform.health_routes(),
    *platform.metrics_routes(),
    path("api/analytics/", include("analytics_service.revenue.urls")),
    *platform.schema_routes(),
    path("api-auth/", include("rest_framework.urls")),
]

handler400, handler404, handler500 = platform.ERROR_HANDLERS
