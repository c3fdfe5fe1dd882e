"""The event store is append-only, and the database itself enforces it.

A trigger refuses UPDATE and DELETE on ``event_store``. History can only
grow: correcting a mistake means appending an event. (TRUNCATE stays allowed
so that a learner can reset a whole lab database, as the tests do.)
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION event_store_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'event_store is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER event_store_append_only
    BEFORE UPDATE OR DELETE ON event_store
    FOR EACH ROW EXECUTE FUNCTION event_store_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS event_store_append_only ON event_store;
DROP FUNCTION IF EXISTS event_store_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("shared_events", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
