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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # drf-spectacular, plus the error answers every operation can give.
    "DEFAULT_SCHEMA_CLASS": "service_kit.api.serializers.ErrorDocumentingAutoSchema",
    # limit/offset, at most 100 a page (service_kit.api.pagination).
    "DEFAULT_PAGINATION_CLASS": (
        "service_kit.api.pagination.CappedLimitOffsetPagination"
    ),
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "service_kit.api.errors.exception_handler",
    # Per-client rate limits, 429 past them (service_kit.api.limits): an
    # authenticated client by its user, an anonymous one by its address.
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
# middleware first in MIDDLEWARE, service_kit.api.limits).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# The throttles count requests in the default cache. locmemcache:// (the
# default) keeps the counts per process: with N gunicorn workers a client
# may make up to N times the rate. For one count across workers and hosts
# set CACHE_URL to rediscache://HOST:6379/1 or to dbcache://api_cache (a
# table in the service's database: run `manage.py --service S
# createcachetable` once).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# DRF-SPECTACULAR (each service adds its TITLE and DESCRIPTION)
# ------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# JWT (issued by the customer service, verified by both without the DB)
# ------------------------------------------------------------------------------
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY"),
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_LIFETIME_HOURS", default=24)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
