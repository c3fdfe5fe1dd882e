"""Processes the platform needs next to Django: databases, brokers, servers."""
