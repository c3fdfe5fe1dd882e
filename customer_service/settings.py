"""Settings of the Customer service.

What both services share comes from ``service_kit.settings``, one module per
integration; every name imported below is a setting of this service (Django
reads a settings module's upper-case names), so the list is the whole of what
it takes. Below them, what is this service's own.
"""

from service_kit.settings.approach import (  # noqa: F401
    APPROACH_HAS_READ_SIDE,
    APPROACH_SHARES_DATABASE,
    ARCHITECTURE_APPROACH,
    READ_DATABASE,
)
from service_kit.settings.base import (  # noqa: F401
    ALLOWED_HOSTS,
    DEBUG,
    DEFAULT_AUTO_FIELD,
    DJANGO_APPS,
    LANGUAGE_CODE,
    LOGGING,
    MIDDLEWARE,
    PLATFORM_APPS,
    SECRET_KEY,
    STATIC_URL,
    TEMPLATES,
    THIRD_PARTY_APPS,
    TIME_ZONE,
    USE_I18N,
    USE_TZ,
    env,
)
from service_kit.settings.celery import (  # noqa: F401
    CELERY_ACCEPT_CONTENT,
    CELERY_BEAT_SCHEDULE,
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP,
    CELERY_BROKER_CONNECTION_TIMEOUT,
    CELERY_RESULT_SERIALIZER,
    CELERY_TASK_ACKS_LATE,
    CELERY_TASK_IGNORE_RESULT,
    CELERY_TASK_PUBLISH_RETRY,
    CELERY_TASK_REJECT_ON_WORKER_LOST,
    CELERY_TASK_SERIALIZER,
    CELERY_WORKER_HIJACK_ROOT_LOGGER,
    CELERY_WORKER_PREFETCH_MULTIPLIER,
    celery_broker_settings,
)
from service_kit.settings.databases import (  # noqa: F401
    DATABASE_ROUTERS,
    service_databases,
)
from service_kit.settings.events import (  # noqa: F401
    AWS_ENDPOINT_URL,
    AWS_REGION,
    EVENT_CONSUMER_WAIT_SECONDS,
    EVENT_DELIVERY,
    EVENT_FIFO,
    EVENT_MAX_RECEIVE_COUNT,
    EVENT_RELAY_BATCH_SIZE,
    EVENT_RELAY_SWEEP_SECONDS,
    EVENT_RELAY_TIME_BUDGET_SECONDS,
    EVENT_RELAY_WAKE,
    EVENT_TOPOLOGY_PREFIX,
    EVENT_VISIBILITY_TIMEOUT,
    FAULT_INJECTION,
    OUTBOX_RETENTION_HOURS,
)
from service_kit.settings.rest_framework import (  # noqa: F401
    CACHES,
    DATA_UPLOAD_MAX_MEMORY_SIZE,
    REST_FRAMEWORK,
    SIMPLE_JWT,
    SPECTACULAR_SETTINGS,
)

# GENERAL AND APPS
# ------------------------------------------------------------------------------
SERVICE_NAME = "customer"
WSGI_APPLICATION = "customer_service.wsgi.application"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *PLATFORM_APPS,
    "customer_service.customers",
    "customer_service.accounts",
]

# Which customer a user of this service is (service_kit.access): the link
# kept by the accounts app, also written into the JWTs this service issues.
CUSTOMER_ACCOUNT_LOOKUP = "customer_service.accounts.selectors.account_customer_id"

DATABASES = service_databases(SERVICE_NAME)

# THE QUERY SIDE (approach 5, cqrs_es): read models in the read database
# ------------------------------------------------------------------------------
READ_MODEL_APPS = {"summaries"}
if APPROACH_HAS_READ_SIDE:
    INSTALLED_APPS.append("customer_service.summaries")
# QUERY_SIDE_ONLY=true serves only the query API (the paper's query service).
QUERY_SIDE_ONLY = env.bool("QUERY_SIDE_ONLY", default=False)
ROOT_URLCONF = (
    "customer_service.query_urls" if QUERY_SIDE_ONLY else "customer_service.urls"
)

# SERVICE-TO-SERVICE CALLS
# ------------------------------------------------------------------------------
# The order service calls this service synchronously under db_per_service and
# presents this shared secret; no default, so production must set it.
CUSTOMER_SERVICE_TOKEN = env.str("CUSTOMER_SERVICE_TOKEN")

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Customer service",
    "DESCRIPTION": "Registers, changes and deletes customers.",
}

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
        "customer_service.authentication.ServiceTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        *REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
        "customer_service.authentication.ServicePrincipalIsReadOnly",
    ],
}

# EVENTS AND CELERY
# ------------------------------------------------------------------------------
globals().update(celery_broker_settings(SERVICE_NAME))
