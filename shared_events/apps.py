from django.apps import AppConfig
from django.conf import settings


class SharedEventsConfig(AppConfig):
    name = "shared_events"
    verbose_name = "Shared events"

    def ready(self) -> None:
        # Imported here, as Django documents: importing it registers the system
        # checks, once the app registry is ready.
        from shared_events import checks  # noqa: F401
        from shared_events.telemetry.tracing import configure_tracing

        # Before the first request: Django's instrumentation adds its
        # middleware, read when the WSGI handler is built after this.
        configure_tracing(
            default_service_name=getattr(settings, "SERVICE_NAME", "platform")
        )
