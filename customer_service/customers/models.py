import uuid

from django.db import models
from django.db.models.functions import Lower


class Customer(models.Model):
    """A customer as the customer service stores it.

    Under approach 1 (shared_db) the order service reads this table directly
    and its orders reference it by a real foreign key: renaming a column here
    breaks the order service. That is the coupling the platform shows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    address = models.CharField(max_length=500)
    version = models.PositiveIntegerField(
        default=0, help_text="The aggregate version: one more per recorded event."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "customers_customer"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customers_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
