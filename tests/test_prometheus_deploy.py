"""Prometheus's files in deploy/prometheus/, checked by Prometheus's own tools.

``promtool`` (Debian's, the version docker-compose.yml runs, fetched by
``stack.prometheus_binary``) checks the generated scrape configuration and
the alert rules, and runs a unit test of each alert on series named as
``shared_events.telemetry.metrics`` names them: an alert that watches a
metric no process exposes cannot pass. Then the package's own server
scrapes a worker's real metrics server with the configuration's bearer-token
settings, as the container would. A machine where promtool cannot be
fetched fails here, saying what to install; it never skips.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import requests
import yaml

from shared_events.configuration import REPO_DIR
from shared_events.telemetry import metrics
from shared_events.telemetry.exposition import start_metrics_server
from stack import prometheus_binary
from stack.compose import (
    HTTP_PORT,
    METRICS_PORT,
    PROMETHEUS,
    PROMETHEUS_CONFIG,
    PROMETHEUS_IMAGE,
    PROMETHEUS_RULES,
    all_processes,
    compose_document,
    render_compose_prometheus_config,
)
from stack.loopback import free_port
from stack.process_table import Kind
from stack.prometheus_binary import (
    PROMETHEUS_VERSION,
    PromtoolUnavailable,
    ensure_prometheus,
    ensure_promtool,
)
from stack.prometheus_config import TOKEN_FILE

CONFIG = REPO_DIR / PROMETHEUS_CONFIG
RULES = REPO_DIR / PROMETHEUS_RULES


@pytest.fixture(scope="module")
def promtool() -> Path:
    return ensure_promtool()  # raises, saying what to install, where it cannot


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def with_token_file(folder: Path, token: str = "a-token") -> Path:
    """The configuration and its rules copied into ``folder``, reading the
    token from a file there instead of the container's secret."""
    (folder / "token").write_text(token)
    config = folder / CONFIG.name
    config.write_text(CONFIG.read_text().replace(TOKEN_FILE, str(folder / "token")))
    (folder / RULES.name).write_text(RULES.read_text())
    return config


def test_without_apt_get_the_error_says_what_to_install(monkeypatch, tmp_path):
    """A machine with no apt-get (macOS, say) and nothing fetched yet."""
    root = tmp_path / "prometheus"
    monkeypatch.setattr(prometheus_binary, "INSTALL_ROOT", root)
    monkeypatch.setattr(prometheus_binary, "INSTALL_DIR", root / "v")
    monkeypatch.setattr(prometheus_binary, "LAUNCHER", root / "v" / "bin" / "promtool")
    monkeypatch.setattr(prometheus_binary, "LOCK_FILE", root / "fetch.lock")
    monkeypatch.delenv("PROMTOOL_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(PromtoolUnavailable) as refused:
        ensure_promtool()

    assert "apt-get" in str(refused.value)
    assert "export PROMTOOL_BINARY=" in str(refused.value)


def test_the_committed_configuration_is_the_generated_one():
    assert CONFIG.read_text() == render_compose_prometheus_config(), (
        f"{PROMETHEUS_CONFIG} is out of date: run python manage.py compose"
    )


def test_promtool_accepts_the_configuration(promtool, tmp_path):
    checked = run(promtool, "check", "config", with_token_file(tmp_path))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout


def test_promtool_refuses_a_broken_configuration(promtool, tmp_path):
    config = with_token_file(tmp_path)
    config.write_text(config.read_text().replace("scrape_interval", "scrape_every"))

    assert run(promtool, "check", "config", config).returncode != 0


def test_promtool_accepts_the_rules(promtool):
    checked = run(promtool, "check", "rules", RULES)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_process_is_scraped_where_it_serves_metrics():
    document = yaml.safe_load(CONFIG.read_text())
    jobs = {job["job_name"]: job for job in document["scrape_configs"]}
    processes = {
        name: process
        for name, (process, _) in all_processes().items()
        if process.kind is not Kind.GATEWAY
    }
    assert set(jobs) == set(processes)
    for name, process in processes.items():
        [targets] = jobs[name]["static_configs"]
        port = HTTP_PORT if process.serves_http else METRICS_PORT
        assert targets["targets"] == [f"{name}:{port}"]
        assert targets["labels"] == {
            "service": process.service,
            "kind": process.kind.value,
        }
        assert jobs[name]["authorization"] == {
            "type": "Bearer",
            "credentials_file": TOKEN_FILE,
        }
    assert document["rule_files"] == [RULES.name]


def test_compose_runs_the_checked_prometheus_with_its_token_as_a_secret():
    document = compose_document()
    prometheus = document["services"][PROMETHEUS]

    assert f"prom/prometheus:v{PROMETHEUS_VERSION}" == PROMETHEUS_IMAGE
    assert prometheus["image"] == PROMETHEUS_IMAGE
    mounted = {volume.split(":")[0] for volume in prometheus["volumes"]}
    assert mounted == {f"./{PROMETHEUS_CONFIG}", f"./{PROMETHEUS_RULES}"}
    [secret] = prometheus["secrets"]
    assert f"/run/secrets/{secret}" == TOKEN_FILE
    assert document["secrets"][secret] == {"environment": "METRICS_TOKEN"}
    for name, service in document["services"].items():
        environment = service.get("environment", {})
        if "METRICS_PORT" in environment:
            assert environment["METRICS_PORT"] == str(METRICS_PORT), name
            assert environment["METRICS_BIND"] == "0.0.0.0", name


# --- each alert, unit-tested by promtool -------------------------------------------

# The metrics' names, as the code names them.
OUTBOX_AGE = metrics.OutboxCollector(service="").describe()[1].name
[DEAD_LETTERS] = [
    family.name
    for family in metrics.DeadLetterQueueCollector(sqs=None, queue_urls=[]).describe()
]
LAG_BUCKET = f"{metrics.CONSUMER_LAG.describe()[0].name}_bucket"
MAPPING_LAG = metrics.MAPPING_CHECKPOINT_LAG.describe()[0].name


def rule_test(series: list[dict], alerts: list[dict]) -> dict:
    """One ``promtool test rules`` case: series (one sample a minute) and the
    alerts expected at each evaluation time."""
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": alerts,
    }


def bucket_series(consumer: str, le: str, per_minute: int) -> dict:
    return {
        "series": f'{LAG_BUCKET}{{consumer="{consumer}",le="{le}"}}',
        "values": f"0+{per_minute}x15",
    }


RULE_TESTS = [
    # An event waiting ever longer in the outbox (the relay stopped).
    rule_test(
        [
            {
                "series": f'{OUTBOX_AGE}{{service="customer"}}',
                "values": "0+60x10",
            },
            {"series": f'{OUTBOX_AGE}{{service="order"}}', "values": "0x10"},
        ],
        [
            {"eval_time": "1m", "alertname": "OutboxEventWaiting", "exp_alerts": []},
            {
                "eval_time": "5m",
                "alertname": "OutboxEventWaiting",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "warning", "service": "customer"},
                        "exp_annotations": {
                            "summary": "customer: an event has waited in the "
                            "outbox for 5m 0s",
                            "description": "The oldest unpublished outbox row of "
                            "the customer service is over a minute old. Is its relay "
                            "running (relay_published_events_total rising)? Does the "
                            "broker refuse events (relay_failed_events_total "
                            "rising)?",
                        },
                    }
                ],
            },
        ],
    ),
    # One dead letter is one too many, at once.
    rule_test(
        [
            {
                "series": f'{DEAD_LETTERS}{{queue="lab-order-inbox-dlq"}}',
                "values": "0 0 1 1",
            }
        ],
        [
            {"eval_time": "1m", "alertname": "DeadLetters", "exp_alerts": []},
            {
                "eval_time": "2m",
                "alertname": "DeadLetters",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "critical",
                            "queue": "lab-order-inbox-dlq",
                        },
                        "exp_annotations": {
                            "summary": "dead letters in lab-order-inbox-dlq: 1",
                            "description": "Events no consumer could apply wait in "
                            "lab-order-inbox-dlq, each with its reason. Read them "
                            "with `manage.py --service S dead_letters list`, fix the "
                            "cause, then redrive them.",
                        },
                    }
                ],
            },
        ],
    ),
    # A consumer whose events all take 30-60 s, and one whose take < 1 s.
    rule_test(
        [
            bucket_series("order-inbox", "1.0", 0),
            bucket_series("order-inbox", "30.0", 0),
            bucket_series("order-inbox", "60.0", 100),
            bucket_series("order-inbox", "+Inf", 100),
            bucket_series("customer-inbox", "1.0", 100),
            bucket_series("customer-inbox", "30.0", 100),
            bucket_series("customer-inbox", "60.0", 100),
            bucket_series("customer-inbox", "+Inf", 100),
        ],
        [
            {"eval_time": "4m", "alertname": "ConsumerLagging", "exp_alerts": []},
            {
                "eval_time": "12m",
                "alertname": "ConsumerLagging",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "consumer": "order-inbox",
                        },
                        # 95% of the events are in the bucket (30, 60]: 58.5 s by
                        # linear interpolation.
                        "exp_annotations": {
                            "summary": "order-inbox: 95% of events take up to 58.5s "
                            "from commit to effect",
                            "description": "Events reach order-inbox more than 30 s "
                            "after their producer committed them. Look for a growing "
                            "outbox backlog, held events "
                            '(consumer_events_total{outcome="held"}) or a slow '
                            "handler.",
                        },
                    }
                ],
            },
        ],
    ),
    # A mapping that checkpoints ever older records.
    rule_test(
        [
            {
                "series": f'{MAPPING_LAG}{{mapping="order-consume-events"}}',
                "values": "0+30x15",
            }
        ],
        [
            {
                "eval_time": "3m",
                "alertname": "EventSourceMappingBehind",
                "exp_alerts": [],
            },
            {
                "eval_time": "10m",
                "alertname": "EventSourceMappingBehind",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "mapping": "order-consume-events",
                        },
                        "exp_annotations": {
                            "summary": "order-consume-events checkpoints records "
                            "5m 0s old",
                            "description": "The event source mapping "
                            "order-consume-events is over a minute behind its "
                            "stream: its handler fails and retries, or cannot keep "
                            "up.",
                        },
                    }
                ],
            },
        ],
    ),
]


def test_each_alert_fires_on_the_platforms_metrics_and_only_then(promtool, tmp_path):
    (tmp_path / RULES.name).write_text(RULES.read_text())
    tests = tmp_path / "alerts_test.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [RULES.name],
                "evaluation_interval": "1m",
                "tests": RULE_TESTS,
            },
            sort_keys=False,
        )
    )

    tested = run(promtool, "test", "rules", tests.name, cwd=tmp_path)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    tested_alerts = {
        case["alertname"] for test in RULE_TESTS for case in test["alert_rule_test"]
    }
    assert alerts == tested_alerts


# --- Prometheus itself scrapes, with the token from a file -------------------------

SCRAPE_CONFIG = textwrap.dedent(
    """
    global:
      scrape_interval: 1s
    scrape_configs:
      - job_name: worker
        authorization:
          type: Bearer
          credentials_file: {token_file}
        static_configs:
          - targets: ["127.0.0.1:{port}"]
    """
)


def test_prometheus_scrapes_a_worker_with_the_bearer_token(tmp_path):
    token = "prometheus-test-token"
    metrics.event_handled(consumer="scraped-inbox", outcome="applied")
    port = free_port()
    server = start_metrics_server(port=port, bind="127.0.0.1", token=token)
    (tmp_path / "token").write_text(token)
    config = tmp_path / "prometheus.yml"
    config.write_text(SCRAPE_CONFIG.format(token_file=tmp_path / "token", port=port))
    web = free_port()
    prometheus = subprocess.Popen(
        [
            str(ensure_prometheus()),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    query = 'consumer_events_total{consumer="scraped-inbox",outcome="applied"}'
    try:
        result = []
        deadline = time.monotonic() + 60
        while not result and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{web}/api/v1/query",
                    params={"query": query},
                    timeout=5,
                )
            except requests.ConnectionError:
                continue  # not listening yet
            if answer.status_code == 200:
                result = answer.json()["data"]["result"]
        up = requests.get(
            f"http://127.0.0.1:{web}/api/v1/query", params={"query": "up"}, timeout=5
        ).json()["data"]["result"]
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=30)
        server.shutdown()
        server.server_close()

    assert [sample["value"][1] for sample in up] == ["1"], json.dumps(up)
    assert [float(sample["value"][1]) for sample in result] >= [1.0]
