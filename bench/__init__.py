"""The benchmark suite: ``make bench`` (``python -m bench``), not part of ``make test``.

Every figure is a ratio against a baseline measured in the same run on the same
machine (raw psycopg2, raw boto3), so the numbers say how much the platform's
layers cost, not how fast this laptop is. See ``docs/benchmarks.md``.
"""
