"""The AppConfig of a service's main app: it installs the composition root.

As eventsourcing-django builds its application in ``ready()``: once, at
start-up, from the settings. What a learner should notice: a service's
``bootstrap.py`` is the only place that chooses adapters, and nothing imports
it but this ``ready()``; the code below only ever sees the service's wiring.

Subclass it through the module (``composition_root.ServiceAppConfig``), not
an imported name: Django takes the one AppConfig class an ``apps.py`` holds.
"""

from importlib import import_module

from django.apps import AppConfig


class ServiceAppConfig(AppConfig):
    # The dotted path of the service's composition root (``bootstrap.py``).
    bootstrap_module: str

    def ready(self) -> None:
        # Imported here: the composition root imports models, which Django
        # allows only once the app registry is ready.
        import_module(self.bootstrap_module).install()
