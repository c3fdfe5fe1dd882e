import uuid
from decimal import Decimal

from django.db import models


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    """An order. ``customer_id`` is a plain UUID: the customer lives elsewhere.

    Only under shared_db does the database know it points at a customer row
    (the ``customer_table`` app adds that foreign key).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.UUIDField(db_index=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "orders_order"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="orders_total_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        db_table = "orders_orderline"
        ordering = ["order", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="orders_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0),
                name="orders_line_price_not_negative",
            ),
            models.UniqueConstraint(
                fields=["order", "position"], name="orders_line_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price
