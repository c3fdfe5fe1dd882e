from service_kit import composition_root


class OrdersConfig(composition_root.ServiceAppConfig):
    """The order service's main app; it installs the composition root."""

    name = "order_service.orders"
    label = "orders"
    verbose_name = "Orders"
    bootstrap_module = "order_service.bootstrap"
