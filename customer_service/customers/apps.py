from service_kit import composition_root


class CustomersConfig(composition_root.ServiceAppConfig):
    """The customer service's main app; it installs the composition root."""

    name = "customer_service.customers"
    label = "customers"
    verbose_name = "Customers"
    bootstrap_module = "customer_service.bootstrap"
