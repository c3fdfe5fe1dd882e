"""The Order service: a Django project that owns orders."""
