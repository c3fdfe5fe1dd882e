"""A boto3 client for the local AWS (the moto server) at a given endpoint.

For the platform's own tooling (the lab, the benchmarks, the reliability
suite), which talks to a moto server it started: any region and credentials
work there. The services themselves build their clients from settings
(``shared_events.transport.clients``).
"""

from __future__ import annotations

from typing import Any

import boto3


def local_client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
