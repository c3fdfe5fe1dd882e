"""Client settings and caching (no server needed: building a client sends nothing)."""

from __future__ import annotations

import pytest

from shared_events.transport.clients import LOCAL_CREDENTIALS, AwsSettings, client


def test_equal_settings_share_one_client_per_service() -> None:
    settings = AwsSettings(endpoint_url="http://127.0.0.1:9")

    assert client("sqs", settings) is client("sqs", AwsSettings("http://127.0.0.1:9"))
    assert client("sns", settings) is not client("sqs", settings)
    assert client("sqs", settings) is not client(
        "sqs", AwsSettings("http://127.0.0.1:9", read_timeout=5)
    )


def test_a_client_carries_endpoint_region_timeouts_and_retries() -> None:
    settings = AwsSettings(
        endpoint_url="http://127.0.0.1:9",
        region="eu-west-1",
        connect_timeout=1.5,
        read_timeout=25,
        max_attempts=4,
    )

    sqs = client("sqs", settings)

    assert sqs.meta.endpoint_url == "http://127.0.0.1:9"
    assert sqs.meta.region_name == "eu-west-1"
    assert sqs.meta.config.connect_timeout == 1.5
    assert sqs.meta.config.read_timeout == 25
    assert sqs.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}


def test_credentials_real_aws_uses_the_default_chain_local_gets_dummy_keys() -> None:
    assert AwsSettings().credentials() is None
    assert AwsSettings(endpoint_url="http://x").credentials() == LOCAL_CREDENTIALS
    keyed = AwsSettings(access_key_id="AKIA", secret_access_key="s3cr3t")
    assert keyed.credentials() == ("AKIA", "s3cr3t")
    assert "s3cr3t" not in repr(keyed)


def test_half_a_key_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        AwsSettings(access_key_id="AKIA")
