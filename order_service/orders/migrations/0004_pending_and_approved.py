"""Orders are placed PENDING and approved or rejected by the credit rule.

Every order placed before the rule existed was accepted: it becomes APPROVED.
"""

from django.db import migrations, models


def placed_to_approved(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Order.objects.filter(status="placed").update(status="approved")


def approved_to_placed(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Order.objects.filter(status__in=["pending", "approved"]).update(status="placed")


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_customerreplica_order_version")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(placed_to_approved, approved_to_placed),
    ]
