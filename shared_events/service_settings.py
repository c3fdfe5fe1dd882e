"""Settings both services share; each service's ``settings.py`` star-imports this.

Grouped as cookiecutter-django groups them. Production secrets have no
default: locally the platform generates them into ``var/platform.env``.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from shared_events.approaches import approach_info
from shared_events.configuration import (
    ConfigurationError,
    current_approach,
    database_url,
    load_env,
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
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    default = env.db_url_config(url)
    default["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    default["CONN_HEALTH_CHECKS"] = True
    default["OPTIONS"] = {"connect_timeout": 5}
    return {"default": default}


# REST FRAMEWORK
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "shared_events.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
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
