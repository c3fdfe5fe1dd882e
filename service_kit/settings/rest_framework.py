"""The HTTP APIs: Django REST framework, request limits, drf-spectacular, JWTs."""

from datetime import timedelta

from service_kit.settings.approach import QUERY_SIDE_ONLY
from service_kit.settings.base import env

# Stateless: a JWT signed with the shared JWT_SIGNING_KEY is verified without
# a database read. The query process (QUERY_SIDE_ONLY) accepts nothing else:
# API tokens and sessions live in the write database, which it never opens.
JWT_AUTHENTICATION = (
    "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
)
DATABASE_AUTHENTICATION = [
    "rest_framework.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

# REST FRAMEWORK
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *([] if QUERY_SIDE_ONLY else DATABASE_AUTHENTICATION),
        JWT_AUTHENTICATION,
        # The query process says why it refuses an API token.
        *(
            ["service_kit.api.query_side_auth.ApiTokenRefused"]
            if QUERY_SIDE_ONLY
            else []
        ),
    ],
    # Signed in, and staff or a customer's own user (service_kit.access);
    # each API then narrows what it reads to the caller's customers.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "service_kit.access.HasCustomerScope",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's JSON parser, refusing too-deep and odd bodies (service_kit.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["service_kit.api.parsers.SafeJSONParser"],
    # drf-spectacular, plus the error answers every operation can give.
    "DEFAULT_SCHEMA_CLASS": "service_kit.api.serializers.ErrorDocumentingAutoSchema",
    # limit/offset, at most 100 a page (service_kit.api.pagination).
    "DEFAULT_PAGINATION_CLASS": (
        "service_kit.api.pagination.CappedLimitOffsetPagination"
    ),
    "PAGE_SIZE": 50,
    # service_kit.api.errors' handler, after counting a request refused for
    # its credentials against its address's rate (service_kit.api.limits).
    "EXCEPTION_HANDLER": "service_kit.api.limits.exception_handler",
    # Per-client rate limits, 429 past them (service_kit.api.limits): an
    # authenticated client by its user (as its credentials name it), an
    # anonymous one, or one whose credentials are refused, by its address.
    "DEFAULT_THROTTLE_CLASSES": [
        "service_kit.api.limits.AnonRateThrottle",
        "service_kit.api.limits.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
    # How many proxies (a gateway, a load balancer) stand in front: the
    # client's address is read that far back in X-Forwarded-For. 0 trusts
    # only the socket's peer, so a client cannot pick its own address.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}

# REQUEST LIMITS
# ------------------------------------------------------------------------------
# The largest request body accepted, JSON included: 413 past it (the
# body-limit middleware, before any that reads a body: service_kit.api.limits).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# THROTTLE COUNTS (shared by every worker of a service)
# ------------------------------------------------------------------------------
# The throttles count requests in the default cache. PostgreSQL is the default
# store, not Redis: every platform has it (the embedded default included), so
# the counts are shared by all workers and hosts of a service with no server
# more to run. The table is the service's own, created by a migration
# (service_kit/migrations); keys name the service, so the two services' counts
# never mix even in one database (approach 1). CACHE_URL=rediscache://... puts
# them in Redis instead. The query process (QUERY_SIDE_ONLY) opens no write
# database, so its counts stay per worker there (locmem) unless CACHE_URL
# names a shared cache: the gateway in front of it throttles as well.
THROTTLE_CACHE_TABLE = "api_throttle_cache"
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=(
            "locmemcache://"
            if QUERY_SIDE_ONLY
            # Culled past MAX_ENTRIES (Django's default, 300, would drop live
            # counts as soon as 300 clients were counted).
            else f"dbcache://{THROTTLE_CACHE_TABLE}?MAX_ENTRIES=100000"
        ),
    )
}

# DRF-SPECTACULAR (each service adds its TITLE and DESCRIPTION)
# ------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# JWT (issued by the customer service, verified by both without the DB)
# ------------------------------------------------------------------------------
# An access token lives minutes: the order service and the query processes
# verify it by its signature alone, so its lifetime is how long a deleted,
# deactivated or demoted user keeps access there. A refresh token lives a day
# and is single-use: each refresh re-reads the user and rotates it, and the
# customer service blacklists every one a user holds when the user is deleted,
# deactivated or demoted (customer_service.token_apis, .accounts.signals).
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY"),
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("JWT_ACCESS_MINUTES", default=5)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_REFRESH_HOURS", default=24)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Who numbers the users a token names (the ``iss`` claim, checked by both
    # services): a JWT's user 7 is the customer service's user 7, which the
    # throttles keep apart from the order service's own user 7.
    "ISSUER": "customer",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
