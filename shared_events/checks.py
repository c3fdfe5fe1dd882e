"""System checks: an approach not built, a relay wake-up not known.

A service's own configuration is checked in ``service_kit.checks``.
"""

from django.conf import settings
from django.core import checks

from shared_events.approaches import ApproachNotBuilt, parse_approach, require_built


@checks.register()
def check_approach_is_built(app_configs, **kwargs):
    try:
        require_built(parse_approach(settings.ARCHITECTURE_APPROACH))
    except ApproachNotBuilt as error:
        return [checks.Error(str(error), id="shared_events.E001")]
    return []


RELAY_WAKES = ("notify", "celery")


@checks.register()
def check_relay_wake(app_configs, **kwargs):
    wake = getattr(settings, "EVENT_RELAY_WAKE", "notify")
    if wake not in RELAY_WAKES:
        return [
            checks.Error(
                f"EVENT_RELAY_WAKE={wake!r} is not one of {', '.join(RELAY_WAKES)}",
                hint="notify: PostgreSQL NOTIFY wakes the relay (the default); "
                "celery: a relay task per commit, through the Celery broker",
                id="shared_events.E002",
            )
        ]
    return []
