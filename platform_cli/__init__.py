"""The platform CLI: ``python manage.py <platform command>``, the top floor.

One module per platform command, each with the command's ``NAME``, its
``HELP`` line and ``run(options)``, and as it needs a ``DESCRIPTION``, its
on/off ``SWITCHES`` (name: help) and ``add_arguments(parser)`` for the other
options; ``main`` builds the parser from them and dispatches. A Django
command on one service (``--service``) is handed to that service's settings
by ``services``.

This package imports every floor below it (the lab, the observers, the
runtime, the events library); nothing below imports it.
"""
