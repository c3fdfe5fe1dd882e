"""System checks: a service refuses to run under an approach not built yet."""

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
