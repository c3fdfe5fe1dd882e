"""Login throttling: django-axes counts failed sign-ins on every login form.

The admin's login (``/admin/login/``), the browsable API's
(``/api-auth/login/``) and the customer service's token endpoint
(``/api/auth/token/``) all check a password through Django's
``authenticate``, so one backend (``axes``, first in
``AUTHENTICATION_BACKENDS``) guards them all. What a learner should notice:

- failures are counted per user name and, apart from that, per address
  (the address the API throttles use, ``service_kit.api.limits``): guessing
  one user's password from many addresses, or many users' from one address,
  is stopped either way;
- past the limit even the right password does not sign in, until the
  lockout ends (the last failure plus ``LOGIN_LOCKOUT_MINUTES``); the answer
  is 429 (``service_kit.login_lockout``), and an operator may lift it early
  with ``manage.py --service S axes_reset``;
- the attempts are rows in the service's own database, seen in the admin
  ("Access attempts"). The query process opens no write database and has no
  login form, so axes is off there.
"""

from datetime import timedelta

from service_kit.settings.approach import QUERY_SIDE_ONLY
from service_kit.settings.base import env

# LOGIN THROTTLING (django-axes)
# ------------------------------------------------------------------------------
AXES_ENABLED = not QUERY_SIDE_ONLY
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Two separate counts (a list of parameters, not a combination of them).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "service_kit.api.limits.client_address"
AXES_USERNAME_CALLABLE = "service_kit.login_lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "service_kit.login_lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# No banner at every start (management commands print machine-read output);
# failures and lockouts are still logged as warnings.
AXES_VERBOSE = False
