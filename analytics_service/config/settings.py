"""Settings of the analytics service.

It starts from the settings every service shares (``service_kit.settings``)
and adds what is its own: one app, and a database of its own under every
approach (``service_kit.settings.databases.own_database``). It publishes
nothing, so it has no outbox, no relay and no Celery broker.
"""

from service_kit.settings import *

# GENERAL AND APPS
# ------------------------------------------------------------------------------
SERVICE_NAME = "analytics"
WSGI_APPLICATION = "analytics_service.config.wsgi.application"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *PLATFORM_APPS,
    "analytics_service.revenue",
]

# A new team's service: its own database whatever the approach.
DATABASES = own_database(SERVICE_NAME)
ROOT_URLCONF = "analytics_service.config.urls"

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Analytics service",
    "DESCRIPTION": "Revenue per customer per day, built from the order events.",
}
