"""The event store is append-only by privilege too: only its owner may change it.

A service's runtime role gets SELECT, INSERT, UPDATE and DELETE on every
table the owner creates (default privileges, ``stack/database_roles.py``),
``event_store`` included when 0001 made it. This takes UPDATE, DELETE and
TRUNCATE on ``event_store`` back from every role but the table's owner.
PostgreSQL checks privileges before it reads a row, so such a statement is
refused whatever it would have touched: "permission denied for table
event_store". The trigger of 0002 stays as a second wall, the one that
stops the owner's UPDATE and DELETE; TRUNCATE stays the owner's (and the
superuser's), for resetting a lab database.

Where no role has been granted anything (a database the services reach as
its owner), there is nothing to take back.
"""

from django.db import migrations

FORWARD = """
REVOKE UPDATE, DELETE, TRUNCATE ON event_store FROM PUBLIC;
DO $$
DECLARE
    grantee regrole;
BEGIN
    FOR grantee IN
        SELECT DISTINCT acl.grantee::regrole
        FROM pg_class, aclexplode(relacl) AS acl
        WHERE pg_class.oid = 'event_store'::regclass
          AND acl.grantee NOT IN (0, relowner)
          AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE ON event_store FROM %s', grantee);
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("shared_events", "0004_outbox_pending_versions")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
