"""The table the API throttles count in (``CACHES`` in
``service_kit.settings.rest_framework``): Django's database cache table,
created by ``migrate`` like every other table of the service, never by hand.

Made with Django's own ``createcachetable`` for the one table named, so it is
there whatever ``CACHE_URL`` says while migrating (a later switch back to the
default finds it). Not in a read database: the router keeps this app out.
"""

from django.core.management import call_command
from django.db import migrations

# As THROTTLE_CACHE_TABLE in the settings; spelt out so that this migration
# stays what it was if the setting changes (a new one would create the new name).
TABLE = "api_throttle_cache"


def create_table(apps, schema_editor):
    call_command(
        "createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_table(apps, schema_editor):
    quoted = schema_editor.quote_name(TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {quoted}")


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunPython(create_table, drop_table)]
