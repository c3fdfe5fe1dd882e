"""A committed outbox row wakes the relay: NOTIFY event_outbox.

A statement trigger on ``event_outbox`` calls ``pg_notify('event_outbox', '')``
after every insert. PostgreSQL delivers a notification only when the
inserting transaction commits (a rolled-back command wakes no one) and
folds identical ones within a transaction into one, so each command costs at
most one notification. The relay worker listens for it
(``shared_events.outbox.listener``).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION event_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('event_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER event_outbox_notify
    AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS event_outbox_notify ON event_outbox;
DROP FUNCTION IF EXISTS event_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("shared_events", "0002_event_store_append_only")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
