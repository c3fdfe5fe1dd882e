from django.apps import AppConfig


class SharedEventsConfig(AppConfig):
    name = "shared_events"
    verbose_name = "Shared events"

    def ready(self) -> None:
        # Imported here, as Django documents: importing it registers the system
        # checks, once the app registry is ready.
        from shared_events import checks  # noqa: F401
