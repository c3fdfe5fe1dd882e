"""Which user is which customer: the link behind a customer user's scope.

A customer user sees and changes only its own customer record and orders
(``service_kit.access``). The link is kept here, in the customer service,
which issues the JWTs: a token for a linked user carries the customer's id
in its ``customer_id`` claim, which is how the order service learns it.

``customer_id`` is a plain UUID, not a foreign key: the customer table is a
cached state under event sourcing and loses its row when the customer is
deleted, while the user and its link stay (and see nothing any more).
"""

from django.conf import settings
from django.db import models


class CustomerAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_account",
    )
    customer_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "customer account"

    def __str__(self) -> str:
        return f"{self.user} -> customer {self.customer_id}"
