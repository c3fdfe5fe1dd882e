from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """The order service's main app; it installs the composition root.

    As eventsourcing-django builds its application in ``ready()``: once, at
    start-up, from the settings.
    """

    name = "order_service.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Imported here: the composition root imports models, which Django
        # allows only once the app registry is ready.
        from order_service import bootstrap

        bootstrap.install()
