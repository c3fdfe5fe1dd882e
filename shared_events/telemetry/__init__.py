"""What every process tells about itself: traces and metrics.

``tracing``: OpenTelemetry spans across every hop, the trace context riding
in the event envelope. ``metrics``: Prometheus counters, histograms and
scrape-time gauges, one ``/metrics`` per process.
"""
