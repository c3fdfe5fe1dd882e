"""The settings both services start from, one module per integration.

A service's ``config/settings.py`` begins with ``from service_kit.settings
import *`` (as cookiecutter-django's settings build on ``base``) and then
adds or extends what is its own. Production secrets have no default:
locally the platform generates them into ``var/platform.env``.
"""

from service_kit.settings.approach import *
from service_kit.settings.base import *
from service_kit.settings.celery import *
from service_kit.settings.databases import *
from service_kit.settings.events import *
from service_kit.settings.login_throttling import *
from service_kit.settings.metrics import *
from service_kit.settings.production import *
from service_kit.settings.rest_framework import *
