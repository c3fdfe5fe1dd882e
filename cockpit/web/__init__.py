"""The cockpit's web app: a small Django project with no database.

Served by waitress in a thread of ``manage.py cockpit`` (``cockpit.web.server``),
so its views reach the controller in-process (``cockpit.web.wiring``); the
gateway routes every path no service takes to it. What a learner should
notice: the page is server-rendered HTML plus htmx, and it composes the two
services' own fragments (micro-frontends) without knowing their markup.
"""
