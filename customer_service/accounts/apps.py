from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "customer_service.accounts"
    label = "accounts"
    verbose_name = "Customer accounts"
