from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.db.models.signals import pre_delete, pre_save


class AccountsConfig(AppConfig):
    name = "customer_service.accounts"
    label = "accounts"
    verbose_name = "Customer accounts"

    def ready(self) -> None:
        from customer_service.accounts import signals

        user_model = get_user_model()
        pre_save.connect(
            signals.revoke_tokens_of_a_changed_user,
            sender=user_model,
            dispatch_uid="accounts.revoke_tokens_of_a_changed_user",
        )
        pre_delete.connect(
            signals.revoke_tokens_of_a_deleted_user,
            sender=user_model,
            dispatch_uid="accounts.revoke_tokens_of_a_deleted_user",
        )
