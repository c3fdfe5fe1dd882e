"""Add the real foreign key orders -> customers, ON DELETE CASCADE.

Runs only in the shared database, after the customer service migrated its
table there (``manage.py migrate`` migrates the customer service first).
"""

from django.db import migrations, models

FORWARD = """
ALTER TABLE orders_order
    ADD CONSTRAINT orders_order_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers_customer (id)
    ON DELETE CASCADE;
"""

BACKWARD = (
    "ALTER TABLE orders_order DROP CONSTRAINT IF EXISTS orders_order_customer_fk;"
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("orders", "0002_lines_cascade_in_database")]

    operations = [
        migrations.CreateModel(
            name="CustomerRow",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("email", models.EmailField(max_length=254)),
            ],
            options={"managed": False, "db_table": "customers_customer"},
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
