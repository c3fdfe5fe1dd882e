"""What ``DJANGO_ENV=production`` turns on: HTTPS only, behind the gateway.

A service in production is reached through the gateway or a load balancer,
which ends TLS and says so in ``X-Forwarded-Proto``. There the service
redirects plain HTTP to HTTPS, tells browsers to use HTTPS only (HSTS), and
sends its session and CSRF cookies over HTTPS only, so that
``manage.py --service S check --deploy`` prints no warning. Locally (any
other ``DJANGO_ENV``, ``development`` by default) the services speak plain
HTTP on loopback and none of this applies. Each protection can still be set
on its own through the environment (``DJANGO_SECURE_SSL_REDIRECT``, ...).

What a learner should notice: ``/api/health/`` is exempt from the redirect,
because load balancers probe it over plain HTTP; and the proxy header is
trusted only in production, where the gateway sets it, since a client that
reaches a service directly could otherwise claim HTTPS itself.
"""

from django.core.exceptions import ImproperlyConfigured

from service_kit.settings.base import env

ENVIRONMENTS = ("development", "production")
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ENVIRONMENTS:
    raise ImproperlyConfigured(
        f"DJANGO_ENV={DJANGO_ENV!r} is not one of {', '.join(ENVIRONMENTS)}"
    )
PRODUCTION = DJANGO_ENV == "production"

# SECURITY
# ------------------------------------------------------------------------------
# The gateway (or load balancer) ends TLS and forwards the original scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
# Paths without the leading slash: load balancers' health checks and
# Prometheus's scrapes (inside the platform's network) use HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=PRODUCTION)
# HSTS cannot be taken back from a browser that has seen it: start with 60
# seconds, and raise it (to a year, 31536000) once HTTPS is known to work.
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=60 if PRODUCTION else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=PRODUCTION)
