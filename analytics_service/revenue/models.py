"""What the analytics service keeps: revenue per customer per day, and why.

Both tables are written only by the event handlers (``handlers``) and read
only by the selectors: a read model, in a database of the service's own.
"""

from decimal import Decimal

from django.db import models


class DailyRevenue(models.Model):
    """The open orders one customer placed on one day (UTC), and their total.

    ``day`` is the UTC date of the order's ``OrderPlaced`` (its
    ``occurred_at``), so a replay and the live inbox put an order on the
    same day whenever they apply it.
    """

    customer_id = models.UUIDField()
    day = models.DateField()
    order_count = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "analytics_daily_revenue"
        ordering = ["day", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "day"], name="analytics_one_row_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(revenue__gte=0),
                name="analytics_revenue_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} on {self.day}: {self.revenue}"


class CountedOrder(models.Model):
    """One order the revenue counts (or counted): what to take back out, and
    from which day, when it is cancelled or rejected later."""

    order_id = models.UUIDField(primary_key=True)
    customer_id = models.UUIDField()
    day = models.DateField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    # False once a cancellation or rejection took it back out.
    counted = models.BooleanField(default=True)
    closed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "analytics_counted_order"
        indexes = [models.Index(fields=["customer_id", "day"])]

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.total}, {self.day})"
