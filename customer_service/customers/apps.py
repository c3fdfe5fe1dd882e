from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """The customer service's main app; it installs the composition root.

    As eventsourcing-django builds its application in ``ready()``: once, at
    start-up, from the settings.
    """

    name = "customer_service.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Imported here: the composition root imports models, which Django
        # allows only once the app registry is ready.
        from customer_service import bootstrap

        bootstrap.install()
