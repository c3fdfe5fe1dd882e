"""Settings of the Customer service.

It starts from the settings both services share (``service_kit.settings``,
one module per integration) and adds, or extends, what is its own.
"""

from service_kit.settings import *

# GENERAL AND APPS
# ------------------------------------------------------------------------------
SERVICE_NAME = "customer"
WSGI_APPLICATION = "customer_service.config.wsgi.application"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *PLATFORM_APPS,
    "customer_service.customers",
    "customer_service.accounts",
    "customer_service.summaries",
    "customer_service.ui",
    # This service issues the JWTs: it records each refresh token so that it
    # can be spent once and revoked (customer_service.token_apis).
    "rest_framework_simplejwt.token_blacklist",
]

# Which customer a user of this service is (service_kit.access): the link
# kept by the accounts app, also written into the JWTs this service issues.
CUSTOMER_ACCOUNT_LOOKUP = "customer_service.accounts.selectors.account_customer_id"

DATABASES = service_databases(SERVICE_NAME)

# FAULT_INJECTION=slow_responses:<ms>[@share] makes this service answer late on
# purpose (the lab's slow-customer-service); otherwise Django leaves it out.
# Right after the body limit, before any work is done (and inside the metrics
# middleware, whose latencies then show the delay).
_after_body_limit = (
    MIDDLEWARE.index("service_kit.api.limits.RequestBodyLimitMiddleware") + 1
)
MIDDLEWARE = [
    *MIDDLEWARE[:_after_body_limit],
    "service_kit.api.slow_responses.SlowResponsesMiddleware",
    *MIDDLEWARE[_after_body_limit:],
]

# THE QUERY SIDE (approach 5, cqrs_es): read models in the read database
# ------------------------------------------------------------------------------
# The read-model app is installed under every approach; only approach 5 gives
# it a read database, elsewhere its query API answers 404 saying why.
READ_MODEL_APPS = {"summaries"}
# QUERY_SIDE_ONLY=true (service_kit.settings.approach) serves only the query
# API, the paper's query service.
ROOT_URLCONF = (
    "customer_service.config.query_urls"
    if QUERY_SIDE_ONLY
    else "customer_service.config.urls"
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
        # Not on the query process: the order service calls the command side.
        *(
            []
            if QUERY_SIDE_ONLY
            else ["customer_service.authentication.ServiceTokenAuthentication"]
        ),
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        *REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
        "customer_service.authentication.ServicePrincipalIsReadOnly",
        # A JWT of a user deleted, deactivated or demoted since: 401 at once.
        # Not on the query process, which never reads the user table.
        *(
            []
            if QUERY_SIDE_ONLY
            else ["customer_service.authentication.TokenUserIsCurrent"]
        ),
    ],
}

# EVENTS AND CELERY
# ------------------------------------------------------------------------------
globals().update(celery_broker_settings(SERVICE_NAME))
