"""No Lambda event source mapping is ever created on moto.

moto's own mappings would compete with the runner and misbehave (its SQS
mapping deletes messages, its DynamoDB mapping empties the stream), so the
platform never asks for one: checked at run time and in the source code.
"""

from __future__ import annotations

import ast
from pathlib import Path

from shared_events.configuration import REPO_DIR
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import client

FORBIDDEN = {"create_event_source_mapping", "CreateEventSourceMapping"}
#: Templates for real AWS may declare mappings (deploy/); tests may name them.
EXEMPT_TOP_LEVEL = {"deploy", "var", "reports", "build", "dist"}


def test_running_every_kind_of_mapping_creates_no_lambda_mapping(aws, tmp_path):
    support.create_stream(aws)
    support.create_table(aws)
    queue_url = support.create_queue(aws)
    support.put_records(aws, ["a"])
    support.put_commit(aws, aggregate_id="a", version=1)
    client("sqs", aws).send_message(QueueUrl=queue_url, MessageBody="{}")
    recorders = [support.Recorder() for _ in range(3)]
    mappings = [
        support.stream_mapping(),
        support.stream_mapping(
            name="er-ddb", source_kind="DYNAMODB_STREAM", source_name=support.TABLE
        ),
        support.queue_mapping(),
    ]

    support.runner(aws, tmp_path, *zip(mappings, recorders, strict=True)).run(
        until_idle=True
    )

    assert [len(recorder.events) for recorder in recorders] == [1, 1, 1]
    assert (
        client("lambda", aws).list_event_source_mappings()["EventSourceMappings"] == []
    )


def calls_to_create_event_source_mapping(root: Path) -> list[str]:
    """Every place outside tests and deploy/ that could create a mapping:
    an attribute named ``create_event_source_mapping`` or a string naming the
    operation (as ``getattr`` or ``_make_api_call`` would use it)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        parts = relative.parts
        if parts[0].startswith(".") or parts[0] in EXEMPT_TOP_LEVEL:
            continue
        if "tests" in parts or parts[-1].startswith("test_"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            named = (isinstance(node, ast.Attribute) and node.attr in FORBIDDEN) or (
                isinstance(node, ast.Constant) and node.value in FORBIDDEN
            )
            if named:
                found.append(f"{relative}:{node.lineno}")
    return found


def test_no_module_of_the_project_calls_create_event_source_mapping():
    assert calls_to_create_event_source_mapping(REPO_DIR) == []


def test_the_check_finds_a_call(tmp_path):
    (tmp_path / "lambdas.py").write_text(
        "def wire(client):\n"
        "    client.create_event_source_mapping(FunctionName='f')\n"
        "    client._make_api_call('CreateEventSourceMapping', {})\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helper.py").write_text("x = 'CreateEventSourceMapping'\n")

    assert calls_to_create_event_source_mapping(tmp_path) == [
        "lambdas.py:2",
        "lambdas.py:3",
    ]
