from service_kit import composition_root


class RevenueConfig(composition_root.ServiceAppConfig):
    """The analytics service's main app; it installs the composition root."""

    name = "analytics_service.revenue"
    label = "revenue"
    verbose_name = "Revenue"
    bootstrap_module = "analytics_service.bootstrap"
