#!/usr/bin/env python
"""One entry point for both services and for the platform as a whole.

    python manage.py --service customer migrate     # a Django command, one service
    SERVICE=order python manage.py shell            # the same, service from env
    python manage.py migrate                        # platform: every service
    python manage.py approach show                  # platform: the approach switch

Run ``python manage.py --help`` for the full list.
"""

import sys

from platform_cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
