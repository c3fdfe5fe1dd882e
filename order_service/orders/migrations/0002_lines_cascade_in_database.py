"""Let the database itself cascade from an order to its lines.

Django emulates ON DELETE CASCADE in Python, which is enough when Django
deletes. Under shared_db the database deletes orders on its own (cascading
from a deleted customer), so the lines' foreign key must cascade in SQL too.
"""

from django.db import migrations

FORWARD = """
DO $$
DECLARE constraint_name text;
BEGIN
    SELECT con.conname INTO constraint_name
    FROM pg_constraint con
    JOIN pg_attribute att
      ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
    WHERE con.conrelid = 'orders_orderline'::regclass
      AND con.contype = 'f' AND att.attname = 'order_id';
    EXECUTE format('ALTER TABLE orders_orderline DROP CONSTRAINT %I', constraint_name);
    ALTER TABLE orders_orderline
        ADD CONSTRAINT orders_orderline_order_fk
        FOREIGN KEY (order_id) REFERENCES orders_order (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
END $$;
"""

BACKWARD = """
ALTER TABLE orders_orderline DROP CONSTRAINT orders_orderline_order_fk;
ALTER TABLE orders_orderline
    ADD CONSTRAINT orders_orderline_order_fk
    FOREIGN KEY (order_id) REFERENCES orders_order (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
