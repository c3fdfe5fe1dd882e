"""General settings, apps, middleware, templates, static files and logging.

``env`` reads the process environment, ``.env`` and ``var/platform.env``
(``shared_events.configuration``); every settings module reads through it.
"""

from service_kit.credit import credit_limit
from service_kit.log_records import logging_config
from shared_events.configuration import load_env

env = load_env()

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# THE CREDIT RULE
# ------------------------------------------------------------------------------
# What one customer's open orders may add up to. Under approaches 1 to 3 the
# order service checks it before it places an order; under 4 and 5 the
# customer service decides it in the credit saga. A rule across two services:
# the lab's credit-limit-race shows which of the two ways holds it.
CREDIT_LIMIT = credit_limit(env.str("CREDIT_LIMIT", default="1000000.00"))

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
    # Counts failed sign-ins and locks out (service_kit.settings.login_throttling).
    "axes",
]
PLATFORM_APPS = ["shared_events", "service_kit"]

MIDDLEWARE = [
    # Outermost: every request is timed and counted, refused ones included
    # (service_kit.api.metrics). It reads no body.
    "service_kit.api.metrics.HttpMetricsMiddleware",
    # Then: an oversized body is refused before anything reads it.
    "service_kit.api.limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (service_kit/static/vendor: htmx, Chart.js) are answered
    # here, before any authentication: a browser loads a page's scripts
    # before it holds a token, and they are public libraries.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "service_kit.api.correlation.CorrelationMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# First django-axes, which refuses a locked-out user name or address before
# any password is checked; then Django's own user table.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
# WhiteNoise serves the apps' static/ folders as Django's finders find them,
# read once at start-up: no collectstatic step, no STATIC_ROOT to fill.
WHITENOISE_USE_FINDERS = True

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"),
    # JSON lines with the trace, correlation and request ids; "plain" for text.
    log_format=env.str("LOG_FORMAT", default="json"),
)
