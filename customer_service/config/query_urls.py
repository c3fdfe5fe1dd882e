"""The customer service's query process (approach 5): ``QUERY_SIDE_ONLY=true``.

Health, the schema and the summaries' query API (``service_kit.api.urls``).
"""

from service_kit.api import urls as platform

urlpatterns = platform.query_side_routes("customer_service.summaries")
handler400, handler404, handler500 = platform.ERROR_HANDLERS
