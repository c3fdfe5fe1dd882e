"""Revenue per customer per day: the analytics service's one app."""
