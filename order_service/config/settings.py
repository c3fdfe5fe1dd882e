"""Settings of the Order service.

It starts from the settings both services share (``service_kit.settings``,
one module per integration) and adds, or extends, what is its own.
"""

from service_kit.settings import *

# GENERAL AND APPS
# ------------------------------------------------------------------------------
SERVICE_NAME = "order"
WSGI_APPLICATION = "order_service.config.wsgi.application"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *PLATFORM_APPS,
    "order_service.orders",
    "order_service.order_views",
    "order_service.ui",
]
if APPROACH_SHARES_DATABASE:
    # Approach 1 only: the order service reaches into the customer table.
    INSTALLED_APPS.append("order_service.customer_table")

DATABASES = service_databases(SERVICE_NAME)

# THE QUERY SIDE (approach 5, cqrs_es): read models in the read database
# ------------------------------------------------------------------------------
# The read-model app is installed under every approach; only approach 5 gives
# it a read database, elsewhere its query API answers 404 saying why.
READ_MODEL_APPS = {"order_views"}
# QUERY_SIDE_ONLY=true (service_kit.settings.approach) serves only the query
# API, the paper's query service.
ROOT_URLCONF = (
    "order_service.config.query_urls"
    if QUERY_SIDE_ONLY
    else "order_service.config.urls"
)

# THE CUSTOMER SERVICE (called synchronously under db_per_service)
# ------------------------------------------------------------------------------
CUSTOMER_SERVICE_URL = env.str("CUSTOMER_SERVICE_URL", default="http://127.0.0.1:8001")
CUSTOMER_SERVICE_TOKEN = env.str("CUSTOMER_SERVICE_TOKEN")
CUSTOMER_SERVICE_TIMEOUT = env.float("CUSTOMER_SERVICE_TIMEOUT", default=2.0)
# Immediate retries of a call that timed out, failed to connect or got 502-504:
# the naive policy the lab's slow-customer-service shows amplifying the load
# on a slow customer service. 0 (the default): one attempt per lookup.
CUSTOMER_SERVICE_RETRIES = env.int("CUSTOMER_SERVICE_RETRIES", default=0)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Order service",
    "DESCRIPTION": "Places, lists and cancels orders.",
    # The order's status, as the command side and the query side name it.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "order_service.orders.models.OrderStatus",
        "OrderViewStatusEnum": (
            "order_service.order_views.selectors.ORDER_VIEW_STATUSES"
        ),
    },
}

# EVENTS AND CELERY
# ------------------------------------------------------------------------------
globals().update(celery_broker_settings(SERVICE_NAME))
