"""The settings both services start from, one module per integration.

A service's ``settings.py`` imports by name what it takes from each (no star
import), so a reader sees every setting a service has. Production secrets
have no default: locally the platform generates them into ``var/platform.env``.
"""
