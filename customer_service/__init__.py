"""The Customer service: a Django project that owns customer data."""
