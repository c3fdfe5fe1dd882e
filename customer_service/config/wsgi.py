import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customer_service.config.settings")

application = get_wsgi_application()

# A service refuses to serve under an approach that is not built yet.
from django.conf import settings  # noqa: E402

from shared_events.approaches import parse_approach, require_built  # noqa: E402

require_built(parse_approach(settings.ARCHITECTURE_APPROACH))
