from django.apps import AppConfig


class SharedEventsConfig(AppConfig):
    name = "shared_events"
    verbose_name = "Shared events"

    def ready(self) -> None:
        from shared_events import checks  # noqa: F401  (registers system checks)
