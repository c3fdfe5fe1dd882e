from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "customer_service.summaries"
    label = "summaries"
    verbose_name = "Customer summaries (read model)"
