"""The cockpit's settings: no database, sessions in a signed cookie.

Nothing here is a secret kept on disk: ``COCKPIT_SECRET_KEY`` and
``COCKPIT_TOKEN`` are generated per run by ``manage.py cockpit`` (a new
run invalidates every cookie of the last one).
"""

from __future__ import annotations

import os

from shared_events.configuration import REPO_DIR

# SECURITY
# ------------------------------------------------------------------------------
# manage.py cockpit sets both before Django starts; there is no default.
SECRET_KEY = os.environ["COCKPIT_SECRET_KEY"]
DEBUG = False
# Reached on loopback only: directly, or through the local gateway.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
# Lax, not Strict: the printed URL is often opened from another page, and
# its redirect must carry the new session. POSTs are guarded by CSRF tokens.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "cockpit_session"
CSRF_COOKIE_NAME = "cockpit_csrftoken"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "cockpit.web",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cockpit.web.access.RunTokenMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "cockpit.web.urls"
DATABASES: dict = {}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
            ]
        },
    }
]
USE_TZ = True
# Django sets the process's TZ from this (its default is America/Chicago):
# the job's progress lines are stamped in UTC, as the logs and reports are.
TIME_ZONE = "UTC"

# STATIC FILES
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
# The vendored htmx and Chart.js (stack/front_end_assets.py) are the
# services' own, and charts.js the lab report's: the cockpit serves the
# same files, read where they are.
STATICFILES_DIRS = [
    REPO_DIR / "service_kit" / "static",
    ("lab", REPO_DIR / "lab" / "static"),
]
WHITENOISE_USE_FINDERS = True

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
