from django.db import models


class CustomerRow(models.Model):
    """The customer service's table, as the order service sees it (read only)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    email = models.EmailField()

    class Meta:
        managed = False
        db_table = "customers_customer"

    def __str__(self) -> str:
        return self.name
