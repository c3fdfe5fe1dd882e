import uuid
from decimal import Decimal

from django.db import models


class OrderStatus(models.TextChoices):
    """PENDING until the credit rule answers; then APPROVED or REJECTED."""

    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


# The orders that hold (or wait for) credit, and may still be cancelled.
OPEN_STATUSES = (OrderStatus.PENDING, OrderStatus.APPROVED)


class Order(models.Model):
    """An order. ``customer_id`` is a plain UUID: the customer lives elsewhere.

    Only under shared_db does the database know it points at a customer row
    (the ``customer_table`` app adds that foreign key).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.UUIDField(db_index=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    version = models.PositiveIntegerField(
        default=0, help_text="The aggregate version: one more per recorded event."
    )
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


class CustomerReplica(models.Model):
    """The order service's own copy of customer data, kept from events.

    From approach 3 on, placing an order checks this table instead of calling
    the customer service: no synchronous dependency, at the price of a copy
    that is only eventually consistent with the customer service.
    """

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    address = models.CharField(max_length=500)
    version = models.PositiveIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_customer_replica"

    def __str__(self) -> str:
        return f"{self.name} (replica v{self.version})"
