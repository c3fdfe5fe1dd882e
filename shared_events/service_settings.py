"""Settings both services share; each service's ``settings.py`` star-imports this.

Grouped as cookiecutter-django groups them. Production secrets have no
default: locally the platform generates them into ``var/platform.env``.
"""

import os
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from shared_events.approaches import approach_info
from shared_events.configuration import (
    ConfigurationError,
    current_approach,
    database_url,
    load_env,
    read_database_url,
)

env = load_env()

# GENERAL
# ------------------------------------------------------------------------------
SERVICE_NAME = os.environ.get("SERVICE", "")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# THE APPROACH SWITCH
# ------------------------------------------------------------------------------
# One of shared_db, db_per_service, direct_publish, event_sourcing, cqrs_es.
# Read once at start-up: a running process picks up a change when restarted.
ARCHITECTURE_APPROACH = current_approach(env).value
APPROACH_SHARES_DATABASE = approach_info(ARCHITECTURE_APPROACH).shares_database
APPROACH_HAS_READ_SIDE = approach_info(ARCHITECTURE_APPROACH).read_side
READ_DATABASE = "read"

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
]
PLATFORM_APPS = ["shared_events"]

MIDDLEWARE = [
    # First: an oversized body is refused before anything reads it.
    "shared_events.request_limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shared_events.correlation.CorrelationMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "static/"

# DATABASES
# ------------------------------------------------------------------------------


def service_databases(service: str) -> dict:
    """The DATABASES setting of one service under the current approach."""
    try:
        url = database_url(env=env, service=service, approach=ARCHITECTURE_APPROACH)
    except ConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from None
    databases = {"default": _database_config(url)}
    if APPROACH_HAS_READ_SIDE:
        # Approach 5: the read models live in a database of their own.
        try:
            read_url = read_database_url(env=env, service=service)
        except ConfigurationError as error:
            raise ImproperlyConfigured(str(error)) from None
        databases[READ_DATABASE] = _database_config(read_url)
    return databases


def _database_config(url: str) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": 5}
    return config


# Read models are routed to the read database by app label (approach 5); the
# router also keeps command code from writing them. See shared_events.routers.
DATABASE_ROUTERS = ["shared_events.routers.ReadModelRouter"]


# REST FRAMEWORK
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Stateless: a JWT signed with the shared JWT_SIGNING_KEY is verified
        # without a database read, which lets the query side serve requests
        # without touching the write database at all.
        "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication",
    ],
    # Signed in, and staff or a customer's own user (shared_events.access);
    # each API then narrows what it reads to the caller's customers.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "shared_events.access.HasCustomerScope",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # drf-spectacular, plus the error answers every operation can give.
    "DEFAULT_SCHEMA_CLASS": "shared_events.api_serializers.ErrorDocumentingAutoSchema",
    # limit/offset, at most 100 a page (shared_events.pagination).
    "DEFAULT_PAGINATION_CLASS": "shared_events.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "shared_events.api_errors.exception_handler",
    # Per-client rate limits, 429 past them (shared_events.request_limits):
    # an authenticated client by its user, an anonymous one by its address.
    "DEFAULT_THROTTLE_CLASSES": [
        "shared_events.request_limits.AnonRateThrottle",
        "shared_events.request_limits.UserRateThrottle",
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
# middleware first in MIDDLEWARE, shared_events.request_limits).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# The throttles count requests in the default cache. locmemcache:// (the
# default) keeps the counts per process: with N gunicorn workers a client
# may make up to N times the rate. For one count across workers and hosts
# set CACHE_URL to rediscache://HOST:6379/1 or to dbcache://api_cache (a
# table in the service's database: run `manage.py --service S
# createcachetable` once).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

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

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# AWS AND EVENTS
# ------------------------------------------------------------------------------
# No AWS_ENDPOINT_URL means real AWS (credentials from the usual chain); the
# platform's own commands start a local moto server and set it for you.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
EVENT_TOPOLOGY_PREFIX = env.str("EVENT_TOPOLOGY_PREFIX", default="")
EVENT_DELIVERY = env.str("EVENT_DELIVERY", default="sns")  # or "sqs": no SNS
EVENT_FIFO = env.bool("EVENT_FIFO", default=False)
# Receives before the dead-letter queue. With the consumer's backoff (1, 2, 4,
# 8, 16, 30, 30 s) eight receives hold an early event ~90 s: longer than the
# visibility timeout a crashed consumer leaves on its predecessor.
EVENT_MAX_RECEIVE_COUNT = env.int("EVENT_MAX_RECEIVE_COUNT", default=8)
EVENT_VISIBILITY_TIMEOUT = env.int("EVENT_VISIBILITY_TIMEOUT", default=30)
EVENT_CONSUMER_WAIT_SECONDS = env.int("EVENT_CONSUMER_WAIT_SECONDS", default=5)
EVENT_RELAY_BATCH_SIZE = env.int("EVENT_RELAY_BATCH_SIZE", default=100)
EVENT_RELAY_TIME_BUDGET_SECONDS = env.float(
    "EVENT_RELAY_TIME_BUDGET_SECONDS", default=20.0
)
EVENT_RELAY_SWEEP_SECONDS = env.float("EVENT_RELAY_SWEEP_SECONDS", default=2.0)
# How a commit wakes the relay: "notify" (PostgreSQL NOTIFY from the outbox,
# heard by every relay worker: shared_events.relay_listener) or "celery" (a
# relay task through the Celery broker per commit, for a database behind a
# pooler that cannot LISTEN). Either way the sweep runs too.
EVENT_RELAY_WAKE = env.str("EVENT_RELAY_WAKE", default="notify")
OUTBOX_RETENTION_HOURS = env.int("OUTBOX_RETENTION_HOURS", default=24 * 7)

# Fault injection, to show the dual write's flaw on purpose (approach 3) and
# that the outbox survives the same fault (approach 4). One of:
#   crash_before_publish  the process dies between commit and publish
#   broker_refuses        the publish after commit fails
# optionally limited to some event types, e.g. crash_before_publish:CustomerDeleted
FAULT_INJECTION = env.str("FAULT_INJECTION", default="")

# CELERY (the outbox relay; its broker is SQS too)
# ------------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "relay-outbox-sweep": {
        "task": "shared_events.relay_outbox",
        "schedule": EVENT_RELAY_SWEEP_SECONDS,
        "options": {"expires": 30},
    },
    "prune-outbox": {"task": "shared_events.prune_outbox", "schedule": 3600.0},
}


def celery_broker_settings(service: str) -> dict:
    """The Celery broker of one service: SQS, at the same endpoint as the events.

    Its visibility timeout (120 s) is far longer than one relay run (the
    relay's time budget, 20 s), so a running task is never handed to a second
    worker; late acks and reject-on-worker-lost mean a killed worker's task
    runs again.
    """
    url = env.str("CELERY_BROKER_URL", default="")
    options = {
        "region": AWS_REGION,
        "visibility_timeout": 120,
        "wait_time_seconds": 1,
        "polling_interval": 0.2,
        "queue_name_prefix": f"{EVENT_TOPOLOGY_PREFIX}{service}-",
    }
    if not url:
        if AWS_ENDPOINT_URL:
            host = AWS_ENDPOINT_URL.split("://", 1)[-1].rstrip("/")
            url = f"sqs://testing:testing@{host}"
            options["is_secure"] = AWS_ENDPOINT_URL.startswith("https")
        else:
            url = "sqs://"
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": options,
        "CELERY_TASK_DEFAULT_QUEUE": "relay",
    }
