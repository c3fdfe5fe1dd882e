from django.apps import AppConfig


class CockpitWebConfig(AppConfig):
    name = "cockpit.web"
    label = "cockpit_web"
