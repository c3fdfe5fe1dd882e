from django.apps import AppConfig


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self) -> None:
        from service_kit import checks  # noqa: F401  (registers system checks)
