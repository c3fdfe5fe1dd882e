"""The HTTP plumbing both services' APIs share (see ``service_kit``)."""
