"""Rename the customer's ``name`` to ``full_name``: the customer service's own
business, which every reader of its table learns about the hard way."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_customer_version")]

    operations = [
        migrations.RenameField(
            model_name="customer", old_name="name", new_name="full_name"
        ),
    ]
