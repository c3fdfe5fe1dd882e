"""The local runtime: the processes the platform needs next to Django.

Databases, a local AWS, the services' processes, a whole platform run, and the
test suite. It imports only ``shared_events``: the observers (``observe``), the
lab, the benchmarks and the CLI (``platform_cli``) import it, never the reverse.
"""
