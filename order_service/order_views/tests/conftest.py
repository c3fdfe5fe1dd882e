"""The read-model tests run only under cqrs_es.

Under any other approach the order_views app is not installed and there is no
``read`` database, so nothing here is collected. The test runner runs these
in a pytest process of their own with ``ARCHITECTURE_APPROACH=cqrs_es``.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

try:
    _has_read_side = settings.APPROACH_HAS_READ_SIDE
except (ImproperlyConfigured, AttributeError):
    _has_read_side = False

collect_ignore_glob = [] if _has_read_side else ["test_*.py"]
