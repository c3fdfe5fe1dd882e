"""System checks of a service's configuration: a query side asked for where
there is none.

The events library checks its own settings (``shared_events.checks``).
"""

from django.conf import settings
from django.core import checks


@checks.register()
def check_query_side_only_has_a_query_side(app_configs, **kwargs):
    if not getattr(settings, "QUERY_SIDE_ONLY", False):
        return []
    if getattr(settings, "APPROACH_HAS_READ_SIDE", False):
        return []
    return [
        checks.Error(
            "QUERY_SIDE_ONLY=true serves only the query API, and "
            f"{settings.ARCHITECTURE_APPROACH} has none: read models and their "
            "query API come with approach 5",
            hint="set ARCHITECTURE_APPROACH=cqrs_es, or unset QUERY_SIDE_ONLY",
            # Its id from before it moved here, so a silenced check stays silenced.
            id="shared_events.E003",
        )
    ]
