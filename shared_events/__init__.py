"""Shared events: the pieces both services use to talk through events.

Today it holds the approach switch (the five approaches of the paper) and the
platform-wide configuration; the event envelope, outbox, relay and consumer
base arrive with the event backbone.
"""
