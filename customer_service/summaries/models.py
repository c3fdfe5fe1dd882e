"""Read models of the customer service: denormalized, rebuildable, staleness visible."""

from decimal import Decimal

from django.db import models

from service_kit.read_models import ProjectedRow


class CustomerSummary(ProjectedRow):
    """A customer with what their orders add up to.

    Built from both services' events: customer events give name, email and
    address; order events give the counts and the lifetime value. Events of
    different aggregates may arrive in any order, so every handler works on a
    row that may not have seen the customer's registration yet.
    """

    customer_id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    address = models.CharField(max_length=500, blank=True, default="")
    registered = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    customer_version = models.PositiveIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    open_order_count = models.PositiveIntegerField(default=0)
    lifetime_value = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0")
    )
    last_order_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "read_customer_summary"
        ordering = ["name", "customer_id"]
        indexes = [
            models.Index(fields=["email"], name="read_summary_email"),
            models.Index(fields=["lifetime_value"], name="read_summary_value"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.customer_id}: {self.order_count} orders"


class SummaryOrder(ProjectedRow):
    """The little the summary needs to remember of each order: total and status.

    OrderCancelled does not carry the total; this row lets the projection
    take a cancelled order's value out of the lifetime value.
    """

    order_id = models.UUIDField(primary_key=True)
    customer_id = models.UUIDField(db_index=True)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16)

    class Meta:
        db_table = "read_customer_summary_order"

    def __str__(self) -> str:
        return f"{self.order_id} ({self.status})"
