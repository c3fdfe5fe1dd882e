"""Read models of the order service: denormalized, rebuildable, staleness visible."""

from decimal import Decimal

from django.db import models

from service_kit.read_models import ProjectedRow


class OrderView(ProjectedRow):
    """An order with its lines and its customer's details copied in.

    Kept current when the customer is renamed, moves, changes email or is
    deleted: one customer event may update many rows here.
    """

    order_id = models.UUIDField(primary_key=True)
    order_version = models.PositiveIntegerField(default=0)
    customer_id = models.UUIDField(db_index=True)
    customer_name = models.CharField(max_length=200, blank=True, default="")
    customer_email = models.CharField(max_length=254, blank=True, default="")
    customer_address = models.CharField(max_length=500, blank=True, default="")
    customer_deleted = models.BooleanField(default=False)
    status = models.CharField(max_length=16)
    cancel_reason = models.CharField(max_length=32, blank=True, default="")
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    lines = models.JSONField(default=list)
    placed_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "read_order_view"
        ordering = ["placed_at", "order_id"]

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.status}) for {self.customer_name}"


class OrderViewCustomer(ProjectedRow):
    """The read side's copy of each customer, to fill in new OrderView rows."""

    customer_id = models.UUIDField(primary_key=True)
    customer_version = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    address = models.CharField(max_length=500, blank=True, default="")
    deleted = models.BooleanField(default=False)

    class Meta:
        db_table = "read_order_view_customer"

    def __str__(self) -> str:
        return self.name or str(self.customer_id)
