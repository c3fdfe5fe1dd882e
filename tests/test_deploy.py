"""The CloudFormation templates in deploy/ and ``manage.py deploy``.

The templates lint clean; deployed to a moto server with Target=local, every
resource the local target keeps really exists (described through its own
API, since moto answers CREATE_COMPLETE for resources it skipped); the
platform's own provisioning finds the stack's topology (and, under the
paper's Kinesis and DynamoDB picture, its streams and event tables) exactly
as it would have made it; an event published through the platform's
publisher to the stack's topic arrives in the subscribed inbox; the task
definitions are the process table's processes and the Lambda functions and
event source mappings the function table's entries, for every approach and
backend; no event source mapping is ever made on moto; and every IAM policy
names its resources.

Platform lane (``-p no:django``). One moto server for the module; every
deployment uses its own prefix, so two runs (or two tests) never collide.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cfnlint.data.AdditionalSpecs
import pytest
from botocore.exceptions import ClientError
from cfnlint.api import lint_file

from platform_cli.deploy import DEPLOYABLE, DEPLOYED_BACKENDS, platform_name_for
from platform_cli.main import main
from shared_events.approaches import Persistence, approach_info
from shared_events.configuration import (
    READ_DATABASE_NAMES,
    REPO_DIR,
    SERVICE_DATABASE_NAMES,
    SERVICES,
)
from shared_events.event_source_mapping.mappings import SourceKind
from shared_events.events import encode, new_envelope
from shared_events.functions import platform_mappings
from shared_events.transport import (
    AwsSettings,
    SnsPublisher,
    TopologyReport,
    ensure_topology,
    outgoing_message,
    platform_topology,
    resolve_routes,
)
from shared_events.transport.topology import KINESIS_SHARDS_RANGE, PLATFORM_CONSUMERS
from stack.cloudformation import (
    MAX_TEMPLATE_BODY_BYTES,
    MAX_TEMPLATE_URL_BYTES,
    DeployError,
    StackResult,
    Target,
    delete_stack,
    deploy_stack,
    deployed_stack,
)
from stack.cloudformation_templates import (
    SERVICE_TEMPLATE,
    SHARED_TEMPLATE,
    TEMPLATES,
    TemplateResolver,
    load_template,
)
from stack.moto_server import MotoServer, start_moto_server
from stack.process_table import (
    DEFAULT_PORTS,
    Kind,
    deployed_processes,
    platform_processes,
)

APPROACHES = ["db_per_service", "direct_publish", "event_sourcing", "cqrs_es"]
#: (EVENT_DELIVERY, EVENT_STORE): the paper's pictures the stacks deploy.
BACKENDS = [
    ("sns", "postgres"),
    ("sns", "dynamodb"),
    ("kinesis", "postgres"),
    ("kinesis", "dynamodb"),
]
#: Every combination the command deploys, FIFO only where it applies (SNS).
COMBINATIONS = [
    (approach, delivery, store, fifo)
    for approach in APPROACHES
    for delivery, store in BACKENDS
    for fifo in ([False, True] if delivery == "sns" else [False])
]


def combination_id(combination: tuple) -> str:
    approach, delivery, store, fifo = combination
    return f"{approach}-{delivery}-{store}" + ("-fifo" if fifo else "")


#: What the local target leaves out, and why: moto cannot create these (it
#: answers CREATE_COMPLETE and makes nothing, or it needs a VPC and a running
#: engine) and nothing local would use them.
AWS_ONLY_TYPES = {
    "AWS::ECS::Service",  # moto does not run containers
    "AWS::RDS::DBCluster",  # Aurora: moto's CloudFormation skips it
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::SecretsManager::Secret",  # skipped by moto's CloudFormation
    "AWS::EC2::SecurityGroup",  # these need a VPC and subnets
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::S3::BucketPolicy",  # TLS only: the local endpoint is plain HTTP
    # moto's own mappings delete SQS messages and drain streams: never on moto
    # (locally the platform's event source mapping runner polls instead).
    "AWS::Lambda::EventSourceMapping",
    # The gateway: moto's CloudFormation skips API Gateway v2, and its API
    # serves no traffic (tests/test_gateway_deploy.py reads the template).
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
}
#: ... and the one policy that grants reading those secrets, and what exists
#: only with the gateway's API (its authorizer and access log).
AWS_ONLY_POLICIES = {
    "ReadSecretsPolicy",
    "GatewayAccessLogs",
    "GatewayAuthorizerRole",
    "GatewayAuthorizerFunction",
    "GatewayAuthorizerPermission",
}


def takes_no_resource(action: str) -> bool:
    """Whether AWS authorizes ``action`` on "*" only: no resource type exists
    for it in the Service Authorization Reference (as cfn-lint ships it)."""
    service, name = action.lower().split(":")
    actions = iam_reference()[service]["Actions"]
    assert name in actions, f"{action} is not an IAM action"
    return not actions[name].get("Resources")


@functools.cache
def iam_reference() -> dict:
    folder = Path(cfnlint.data.AdditionalSpecs.__file__).parent
    return json.loads((folder / "Policies.json").read_text())


def event_table_provisioning():
    """``shared_events.write_side.dynamodb.provisioning``, plain boto3, loaded
    from its file: importing it by name would run the ``write_side`` package's
    ``__init__``, which needs Django, and this lane runs without it."""
    path = REPO_DIR / "shared_events/write_side/dynamodb/provisioning.py"
    spec = importlib.util.spec_from_file_location("event_table_provisioning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "a-stack",
    "AWS::StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/a/1",
    "AWS::URLSuffix": "amazonaws.com",
}


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with start_moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def target(moto: MotoServer) -> Target:
    return Target(region="us-east-1", endpoint_url=moto.endpoint_url)


@functools.cache
def template_of(path: Path) -> dict:
    """A template, read once (nothing here changes it)."""
    return load_template(path)


def run_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}-"


def common_parameters(
    prefix: str,
    approach: str,
    *,
    fifo: bool = False,
    delivery: str = "sns",
    store: str = "postgres",
) -> dict:
    return {
        "Target": "local",
        "PlatformName": f"lab-{prefix.strip('-')}",
        "Approach": approach,
        "EventTopologyPrefix": prefix,
        "EventFifo": "true" if fifo else "false",
        "EventDelivery": delivery,
        "EventStore": store,
    }


class Deployment:
    """The shared stack and both service stacks of one approach, on moto."""

    def __init__(
        self,
        target: Target,
        approach: str,
        *,
        fifo: bool = False,
        delivery: str = "sns",
        store: str = "postgres",
        kinesis_shards: int = 2,
    ):
        self.target = target
        self.approach = approach
        self.fifo = fifo
        self.delivery = delivery
        self.store = store
        self.kinesis_shards = kinesis_shards
        self.prefix = run_prefix()
        self.parameters = common_parameters(
            self.prefix, approach, fifo=fifo, delivery=delivery, store=store
        )
        if kinesis_shards != 2:
            self.parameters["EventKinesisShards"] = str(kinesis_shards)
        name = self.parameters["PlatformName"]
        self.names = {"shared": f"{name}-shared"} | {
            service: f"{name}-{service}" for service in SERVICES
        }
        self.results: dict[str, StackResult] = {}

    def deploy(self) -> Deployment:
        shared = deploy_stack(
            self.target,
            name=self.names["shared"],
            template_path=SHARED_TEMPLATE,
            parameters=self.parameters,
        )
        self.results["shared"] = shared
        for service in SERVICES:
            self.results[service] = deploy_stack(
                self.target,
                name=self.names[service],
                template_path=SERVICE_TEMPLATE,
                parameters={
                    **shared.outputs,
                    **self.parameters,
                    "ServiceName": service,
                },
                template_bucket=shared.outputs["TemplateBucketName"],
            )
        return self

    def delete(self) -> None:
        for part in [*SERVICES, "shared"]:
            delete_stack(self.target, self.names[part])

    def stack_parameters(self, part: str) -> dict:
        if part == "shared":
            return self.parameters
        shared = self.results["shared"].outputs
        return {**shared, **self.parameters, "ServiceName": part}

    def topology(self):
        return platform_topology(
            prefix=self.prefix,
            fifo=self.fifo,
            delivery=self.delivery,
            read_side=approach_info(self.approach).read_side,
            max_receive_count=8,
            visibility_timeout=30,
            kinesis_shards=self.kinesis_shards,
        )


@pytest.fixture(scope="module")
def cqrs(target: Target) -> Iterator[Deployment]:
    """Approach 5, the most resources: deployed once for the module."""
    deployment = Deployment(target, "cqrs_es").deploy()
    yield deployment
    deployment.delete()


@pytest.fixture(scope="module")
def aws_picture(target: Target) -> Iterator[Deployment]:
    """The paper's AWS figure: cqrs_es on a DynamoDB event store whose stream
    feeds Lambda, events on Kinesis. Three shards, so a stream made with the
    default count would show."""
    deployment = Deployment(
        target, "cqrs_es", delivery="kinesis", store="dynamodb", kinesis_shards=3
    ).deploy()
    yield deployment
    deployment.delete()


# --- the templates ----------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_are_cfn_lint_clean(template: Path):
    assert [str(match) for match in lint_file(template)] == []


def test_the_shared_template_fits_in_one_request():
    """CloudFormation takes 51,200 bytes inline: the shared stack, which makes
    the bucket the service stacks' templates go through, must fit."""
    assert len(SHARED_TEMPLATE.read_bytes()) < MAX_TEMPLATE_BODY_BYTES


def test_service_stacks_are_made_from_the_template_uploaded_to_s3(target, cqrs):
    """The service template goes through the shared stack's bucket (up to 1 MB)."""
    bucket = cqrs.results["shared"].outputs["TemplateBucketName"]
    s3 = target.client("s3")
    (uploaded,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    body = s3.get_object(Bucket=bucket, Key=uploaded["Key"])["Body"].read()
    assert body == SERVICE_TEMPLATE.read_bytes()
    assert len(body) < MAX_TEMPLATE_URL_BYTES


def test_the_service_template_knows_the_platform_ports_and_database_names():
    services = template_of(SERVICE_TEMPLATE)["Mappings"]["Services"]
    for service in SERVICES:
        assert services[service]["WebPort"] == DEFAULT_PORTS[f"{service}-web"]
        assert services[service]["QueryPort"] == DEFAULT_PORTS[f"{service}-query"]
        assert services[service]["DatabaseName"] == SERVICE_DATABASE_NAMES[service]
        assert services[service]["ReadDatabaseName"] == READ_DATABASE_NAMES[service]
        # The producer whose stream the service's consumer reads (kinesis).
        assert [services[service]["ConsumesFrom"]] == list(PLATFORM_CONSUMERS[service])


def test_the_templates_take_the_approaches_and_backends_the_command_deploys():
    for template in TEMPLATES:
        parameters = template_of(template)["Parameters"]
        assert parameters["Approach"]["AllowedValues"] == DEPLOYABLE == APPROACHES
        for parameter, values in DEPLOYED_BACKENDS.values():
            assert parameters[parameter]["AllowedValues"] == list(values)
        assert {delivery for delivery, _ in BACKENDS} == {"sns", "kinesis"}
        shards = parameters["EventKinesisShards"]
        assert range(shards["MinValue"], shards["MaxValue"] + 1) == (
            KINESIS_SHARDS_RANGE
        )


def test_the_event_defaults_are_the_services_defaults():
    """What a stack deployed with its defaults names is what a service computes."""
    source = (REPO_DIR / "service_kit/settings/events.py").read_text()
    defaults = {
        node.args[0].value: node.keywords[0].value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.keywords
        and isinstance(node.keywords[0].value, ast.Constant)
    }
    expected = {
        "EventMaxReceiveCount": defaults["EVENT_MAX_RECEIVE_COUNT"],
        "EventVisibilityTimeout": defaults["EVENT_VISIBILITY_TIMEOUT"],
        "EventTopologyPrefix": defaults["EVENT_TOPOLOGY_PREFIX"],
        "EventDelivery": defaults["EVENT_DELIVERY"],
        "EventStore": defaults["EVENT_STORE"],
        "EventKinesisShards": defaults["EVENT_KINESIS_SHARDS"],
    }
    for template in TEMPLATES:
        parameters = template_of(template)["Parameters"]
        assert {name: parameters[name]["Default"] for name in expected} == expected


def resolver_for(template: dict, parameters: dict) -> TemplateResolver:
    """Reads a template without a stack: resources stand for themselves."""
    return TemplateResolver(
        template=template,
        parameters=parameters,
        pseudo=PSEUDO,
        ref=lambda logical: f"<{logical}>",
        get_att=lambda logical, attribute: f"<{logical}.{attribute}>",
    )


def aws_parameters(
    approach: str,
    service: str,
    *,
    fifo: bool = False,
    delivery: str = "sns",
    store: str = "postgres",
) -> dict:
    return {
        **common_parameters("p-", approach, fifo=fifo, delivery=delivery, store=store),
        "Target": "aws",
        "ServiceName": service,
        "ClusterName": "cluster",
        "ImageRepositoryUri": "repository",
        "ImageRepositoryArn": "arn:aws:ecr:eu-west-1:111122223333:repository/r",
    }


@pytest.mark.parametrize("approach", APPROACHES)
@pytest.mark.parametrize(("delivery", "store"), BACKENDS)
def test_deployed_processes_are_the_table_without_the_local_runner(
    approach, delivery, store
):
    """On AWS Lambda runs the handlers: every process of the table but the
    local event source mapping runner, which a service runs exactly when the
    function table gives it mappings; and API Gateway is the gateway
    (tests/test_gateway_deploy.py)."""
    table = platform_processes(approach, delivery=delivery, store=store)
    deployed = deployed_processes(approach, delivery=delivery, store=store)
    assert deployed == [
        p for p in table if p.kind not in (Kind.FUNCTIONS, Kind.GATEWAY)
    ]
    topology = platform_topology(
        prefix="p-", delivery=delivery, read_side=approach_info(approach).read_side
    )
    for service in SERVICES:
        mappings = platform_mappings(
            service=service,
            approach=approach,
            delivery=delivery,
            store=store,
            topology=topology,
            retries=8,
        )
        runner = [p for p in table if p.kind is Kind.FUNCTIONS and p.service == service]
        assert len(runner) == (1 if mappings else 0)


@pytest.mark.parametrize("approach", APPROACHES)
@pytest.mark.parametrize(("delivery", "store"), BACKENDS)
@pytest.mark.parametrize("service", SERVICES)
def test_task_definitions_and_ecs_services_are_the_process_table(
    approach, delivery, store, service
):
    """One task definition and one ECS service per deployed process, with its
    command and the platform's settings."""
    resolver = resolver_for(
        template_of(SERVICE_TEMPLATE),
        aws_parameters(approach, service, delivery=delivery, store=store),
    )
    kept = resolver.kept()
    containers = {}
    properties_of = {}
    for resource in kept.values():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            properties = resolver.resolve(resource["Properties"])
            (container,) = properties["ContainerDefinitions"]
            containers[container["Name"]] = container
            properties_of[container["Name"]] = properties
    ecs_services = {
        resolver.resolve(resource["Properties"]["ServiceName"])
        for resource in kept.values()
        if resource["Type"] == "AWS::ECS::Service"
    }
    processes = [
        p
        for p in deployed_processes(approach, delivery=delivery, store=store)
        if p.service == service
    ]
    assert set(containers) == {process.name for process in processes}
    assert ecs_services == {process.name for process in processes}
    for process in processes:
        container = containers[process.name]
        assert container["EntryPoint"] == ["python", "manage.py"]
        assert container["Command"] == [
            "--service",
            service,
            *process.command(bind="0.0.0.0:8000"),
        ]
        environment = {item["Name"]: item["Value"] for item in container["Environment"]}
        assert dict(process.environment).items() <= environment.items()
        query_side = "QUERY_SIDE_ONLY" in dict(process.environment)
        assert ("QUERY_SIDE_ONLY" in environment) == query_side
        assert environment["ARCHITECTURE_APPROACH"] == approach
        assert environment["EVENT_TOPOLOGY_PREFIX"] == "p-"
        assert environment["EVENT_DELIVERY"] == delivery
        assert environment["EVENT_STORE"] == store
        assert environment["EVENT_KINESIS_SHARDS"] == "2"
        secrets = {item["Name"] for item in container["Secrets"]}
        assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "CUSTOMER_SERVICE_TOKEN"} <= (
            secrets
        )
        has_read_side = approach_info(approach).read_side
        assert (f"{service.upper()}_READ_DATABASE_URL" in secrets) == has_read_side
        # The query side never opens the write database nor calls AWS: it
        # gets neither the write database's credentials nor a task role.
        assert (f"{service.upper()}_DATABASE_URL" in secrets) != query_side
        assert ("TaskRoleArn" in properties_of[process.name]) != query_side


@pytest.mark.parametrize("approach", APPROACHES)
@pytest.mark.parametrize(("delivery", "store"), BACKENDS)
@pytest.mark.parametrize("service", SERVICES)
def test_a_service_alone_gets_its_event_signing_key(approach, delivery, store, service):
    """Each publishing service's processes (not its query process) get its own
    event signing secret, never the other service's; every process that
    handles events gets both producers' verifying keys, which are public."""
    publishes = approach_info(approach).persistence(service) is not Persistence.STATE
    resolver = resolver_for(
        template_of(SERVICE_TEMPLATE),
        {
            **aws_parameters(approach, service, delivery=delivery, store=store),
            "CustomerEventVerifyingKeys": "customer-public",
            "OrderEventVerifyingKeys": "order-public-1,order-public-2",
        },
    )
    (own,) = [f"{p.upper()}_EVENT_SIGNING_KEY" for p in SERVICES if p == service]
    (other,) = [f"{p.upper()}_EVENT_SIGNING_KEY" for p in SERVICES if p != service]
    kept = resolver.kept()
    assert ("EventSigningKey" in kept) == publishes
    checked = 0
    for resource in kept_of_type(resolver, "AWS::ECS::TaskDefinition").values():
        (container,) = resolver.resolve(resource["Properties"])["ContainerDefinitions"]
        environment = {item["Name"]: item["Value"] for item in container["Environment"]}
        secrets = {item["Name"]: item["ValueFrom"] for item in container["Secrets"]}
        query_side = "QUERY_SIDE_ONLY" in environment
        assert other not in secrets and other not in environment
        assert (own in secrets) == (publishes and not query_side), container["Name"]
        if own in secrets:
            assert secrets[own] == "<EventSigningKey>"
        if not query_side:
            assert environment["CUSTOMER_EVENT_VERIFYING_KEYS"] == "customer-public"
            assert environment["ORDER_EVENT_VERIFYING_KEYS"] == (
                "order-public-1,order-public-2"
            )
        checked += 1
    for resource in kept_of_type(resolver, "AWS::Lambda::Function").values():
        variables = resolver.resolve(resource["Properties"])["Environment"]["Variables"]
        assert other not in variables
        assert (own in variables) == publishes
        checked += 1
    assert checked
    if publishes:
        (policy,) = [
            resolver.resolve(resource["Properties"]["PolicyDocument"])
            for logical, resource in kept.items()
            if logical == "ReadSecretsPolicy"
        ]
        assert "<EventSigningKey>" in policy["Statement"][0]["Resource"]


# --- Lambda: the function table ---------------------------------------------------


def cfn_value(value: Any) -> Any:
    """A property as CloudFormation reads it: numbers and booleans as text
    (a parameter's value is text, a YAML literal is not)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [cfn_value(item) for item in value]
    if isinstance(value, dict):
        return {key: cfn_value(item) for key, item in value.items()}
    return value


def kept_of_type(resolver: TemplateResolver, kind: str) -> dict[str, dict]:
    return {
        logical: resource
        for logical, resource in resolver.kept().items()
        if resource["Type"] == kind
    }


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
@pytest.mark.parametrize("service", SERVICES)
def test_functions_and_event_source_mappings_are_the_function_table(
    combination, service
):
    """One Lambda function per handler module the table names, and one event
    source mapping per entry: its settings exactly the entry's
    ``aws_properties()``, reading the entry's source into the entry's handler,
    with the entry's dead-letter queue as its on-failure destination."""
    approach, delivery, store, fifo = combination
    template = template_of(SERVICE_TEMPLATE)
    resolver = resolver_for(
        template,
        aws_parameters(approach, service, fifo=fifo, delivery=delivery, store=store),
    )
    topology = platform_topology(
        prefix="p-",
        fifo=fifo,
        delivery=delivery,
        read_side=approach_info(approach).read_side,
    )
    table = platform_mappings(
        service=service,
        approach=approach,
        delivery=delivery,
        store=store,
        topology=topology,
        retries=8,  # EventMaxReceiveCount's default, EVENT_MAX_RECEIVE_COUNT's
    )
    functions = {
        f"<{logical}>": resolver.resolve(resource["Properties"])
        for logical, resource in kept_of_type(resolver, "AWS::Lambda::Function").items()
    }
    handlers = {}
    for ref, properties in functions.items():
        assert properties["PackageType"] == "Image"
        assert properties["Code"] == {"ImageUri": "repository:latest"}
        assert properties["ImageConfig"]["EntryPoint"] == [
            "python",
            "-m",
            "awslambdaric",
        ]
        (handlers[ref],) = properties["ImageConfig"]["Command"]
    assert sorted(handlers.values()) == sorted({m.function for m in table})

    arn = "arn:aws:{}:eu-west-1:111122223333:{}"
    tables = kept_of_type(resolver, "AWS::DynamoDB::Table")
    declared = []
    for resource in kept_of_type(resolver, "AWS::Lambda::EventSourceMapping").values():
        properties = resolver.resolve(resource["Properties"])
        destination = properties.pop("DestinationConfig", {}).get("OnFailure", {})
        declared.append(
            (
                handlers[properties.pop("FunctionName")],
                properties.pop("EventSourceArn"),
                destination.get("Destination"),
                cfn_value(properties),
            )
        )
    expected = []
    for mapping in table:
        if mapping.source_kind is SourceKind.KINESIS:
            source = arn.format("kinesis", f"stream/{mapping.source_name}")
        else:
            assert mapping.source_kind is SourceKind.DYNAMODB_STREAM
            (logical,) = tables
            name = resolver.resolve(tables[logical]["Properties"]["TableName"])
            assert name == mapping.source_name
            source = f"<{logical}.StreamArn>"
        on_failure = mapping.on_failure_queue
        expected.append(
            (
                mapping.function,
                source,
                on_failure and arn.format("sqs", on_failure),
                cfn_value(mapping.aws_properties()),
            )
        )
    assert sorted(declared, key=repr) == sorted(expected, key=repr)
    # The table has the event table's stream as a source exactly where the
    # template makes the event table.
    uses_table = any(m.source_kind is SourceKind.DYNAMODB_STREAM for m in table)
    assert bool(tables) == uses_table


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
@pytest.mark.parametrize("service", SERVICES)
def test_functions_run_with_the_web_tasks_settings(combination, service):
    """A handler starts the service's Django settings: the web task's
    environment and secrets, but AWS_REGION, which Lambda sets itself."""
    approach, delivery, store, fifo = combination
    resolver = resolver_for(
        template_of(SERVICE_TEMPLATE),
        aws_parameters(approach, service, fifo=fifo, delivery=delivery, store=store),
    )
    (web,) = resolver.resolve(resolver.template["Resources"]["WebTask"]["Properties"])[
        "ContainerDefinitions"
    ]
    expected = {item["Name"]: item["Value"] for item in web["Environment"]}
    del expected["AWS_REGION"]
    secrets = {item["Name"]: item["ValueFrom"] for item in web["Secrets"]}
    for resource in kept_of_type(resolver, "AWS::Lambda::Function").values():
        properties = resolver.resolve(resource["Properties"])
        variables = properties["Environment"]["Variables"]
        assert {k: variables[k] for k in expected} == expected
        assert set(variables) == set(expected) | set(secrets)
        for name, secret in secrets.items():
            assert variables[name] == "{{resolve:secretsmanager:" + secret + "}}"
        # In the tasks' subnets, with the tasks' security group (the databases
        # admit that group only).
        assert properties["VpcConfig"] == {
            "SubnetIds": [],
            "SecurityGroupIds": ["<TaskSecurityGroup>"],
        }


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_the_local_target_makes_no_event_source_mapping(combination):
    """moto's own mappings delete SQS messages and drain streams: on the local
    target the platform's runner polls, and the templates make none. The
    functions themselves stay (moto makes them, and runs nothing)."""
    approach, delivery, store, fifo = combination
    for service in SERVICES:
        parameters = {
            **aws_parameters(
                approach, service, fifo=fifo, delivery=delivery, store=store
            ),
            "Target": "local",
        }
        for template in TEMPLATES:
            resolver = resolver_for(template_of(template), parameters)
            kinds = {resource["Type"] for resource in resolver.kept().values()}
            assert "AWS::Lambda::EventSourceMapping" not in kinds
        on_aws = resolver_for(
            template_of(SERVICE_TEMPLATE), {**parameters, "Target": "aws"}
        )
        local = resolver_for(template_of(SERVICE_TEMPLATE), parameters)
        assert kept_of_type(local, "AWS::Lambda::Function").keys() == (
            kept_of_type(on_aws, "AWS::Lambda::Function").keys()
        )


# --- least privilege --------------------------------------------------------------


def policy_documents(resolver: TemplateResolver) -> Iterator[tuple[str, dict]]:
    """Every permissions policy the kept resources carry, resolved."""
    for logical, resource in resolver.kept().items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            yield logical, resolver.resolve(properties["PolicyDocument"])
        for inline in resolver.resolve(properties.get("Policies", [])) or []:
            yield f"{logical}/{inline['PolicyName']}", inline["PolicyDocument"]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def own_queue_arns(service: str, topology) -> set[str]:
    consumers = [service, f"{service}-read"]
    arn = "arn:aws:sqs:eu-west-1:111122223333:{}"
    return {
        arn.format(name)
        for consumer in consumers
        if consumer in topology.consumers
        for name in (
            topology.queue_name(consumer),
            topology.dead_letter_queue_name(consumer),
        )
    } | {"<RelayQueue.Arn>"}


#: Resources named by pattern, and why: the ids are AWS's to choose.
NAMED_BY_PATTERN = {
    # The network interfaces Lambda makes for a function in the VPC.
    ":network-interface/*": None,
    # The subnets a function's interfaces go in: any of the VPC's (the subnet
    # list is a parameter, which a policy cannot map to ARNs), and only with
    # the condition that names the VPC.
    ":subnet/*": "ec2:Vpc",
}


def pattern_allowed(resource: str, statement: dict) -> bool:
    for suffix, condition_key in NAMED_BY_PATTERN.items():
        if resource.endswith(suffix) and "*" not in resource.removesuffix(suffix):
            conditions = statement.get("Condition", {}).get("ArnEquals", {})
            return condition_key is None or "*" not in conditions.get(
                condition_key, "*"
            )
    return False


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_every_iam_policy_names_its_resources(combination):
    """No "*" action; "*" resources only for actions that take nothing else; a
    service publishes only to its own topic or stream, receives from, deletes
    from and sends to only its own queues, reads only the streams it consumes,
    and writes and reads only its own event table and that table's stream."""
    approach, delivery, store, fifo = combination
    topology = platform_topology(
        prefix="p-",
        fifo=fifo,
        delivery=delivery,
        read_side=approach_info(approach).read_side,
    )
    arn = "arn:aws:{}:eu-west-1:111122223333:{}"
    checked = 0
    for service in SERVICES:
        parameters = aws_parameters(
            approach, service, fifo=fifo, delivery=delivery, store=store
        )
        read = [service] + (
            [f"{service}-read"] if f"{service}-read" in topology.consumers else []
        )
        readable_streams = {
            arn.format("kinesis", f"stream/{topology.stream_name(producer)}")
            for consumer in read
            for producer in topology.consumers[consumer]
        }
        for template in TEMPLATES:
            resolver = resolver_for(template_of(template), parameters)
            for name, document in policy_documents(resolver):
                for statement in as_list(document["Statement"]):
                    actions = as_list(statement["Action"])
                    resources = as_list(statement["Resource"])
                    where = (
                        f"{template.name} {name} ({service}, "
                        f"{combination_id(combination)})"
                    )
                    assert not any("*" in action for action in actions), where
                    if "*" in resources:
                        assert resources == ["*"], where
                        assert all(map(takes_no_resource, actions)), where
                    else:
                        for resource in resources:
                            # A log group's streams are its ARN followed by ":*".
                            assert "*" not in resource.removesuffix(":*") or (
                                pattern_allowed(resource, statement)
                            ), where
                    if "sns:Publish" in actions:
                        topic = topology.topic_name(service)
                        assert resources == [arn.format("sns", topic)], where
                    if "kinesis:PutRecords" in actions:
                        stream = topology.stream_name(service)
                        assert resources == [
                            arn.format("kinesis", f"stream/{stream}")
                        ], where
                    if "kinesis:GetRecords" in actions:
                        assert set(resources) <= readable_streams, where
                    moves_messages = {
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:SendMessage",
                    }
                    if moves_messages & set(actions):
                        own = own_queue_arns(service, topology)
                        assert set(resources) <= own, where
                    table = {a for a in actions if a.startswith("dynamodb:")} - {
                        "dynamodb:ListStreams"
                    }
                    if table:
                        assert store == "dynamodb", where
                        assert set(resources) <= {
                            "<EventTable.Arn>",
                            "<EventTable.StreamArn>",
                        }, where
                    checked += 1
    assert checked > 0


def inbox_arns(topology) -> set[str]:
    return {
        f"arn:aws:sqs:eu-west-1:111122223333:{topology.queue_name(consumer)}"
        for consumer, producers in topology.consumers.items()
        if producers
    }


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_only_the_topics_may_send_to_an_inbox(combination):
    """Each inbox's queue policy lets its producers' topics send and denies
    sqs:SendMessage to every other principal, whatever its own IAM permissions
    (an explicit Deny wins); no role of either stack is even allowed to try.
    So a message on an inbox came through a producer's topic: forged events
    can only come from a producer, and those its signature stops."""
    approach, delivery, store, fifo = combination
    topology = platform_topology(
        prefix="p-",
        fifo=fifo,
        delivery=delivery,
        read_side=approach_info(approach).read_side,
    )
    inboxes = set()
    if delivery == "sns" and approach_info(approach).uses_events:
        inboxes = inbox_arns(topology)
    parameters = aws_parameters(
        approach, "order", fifo=fifo, delivery=delivery, store=store
    )
    shared = resolver_for(template_of(SHARED_TEMPLATE), parameters)
    policies = {}
    for resource in kept_of_type(shared, "AWS::SQS::QueuePolicy").values():
        properties = shared.resolve(resource["Properties"])
        (queue,) = properties["Queues"]
        allow, deny = properties["PolicyDocument"]["Statement"]
        topics = allow["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert allow["Effect"] == "Allow"
        assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
        assert deny == {
            "Sid": "DenyEveryOtherSender",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": allow["Resource"],
            "Condition": {"ArnNotEquals": {"aws:SourceArn": topics}},
        }
        policies[allow["Resource"]] = topics
    # Every inbox has one (by ARN: "<OrderInbox.Arn>" stands for it here).
    names = {
        logical
        for logical, resource in kept_of_type(shared, "AWS::SQS::Queue").items()
        if not logical.endswith("DeadLetterQueue")
    }
    assert {f"<{name}.Arn>" for name in names} == set(policies)
    assert len(policies) == len(inboxes)
    for service in SERVICES:
        for template in TEMPLATES:
            resolver = resolver_for(
                template_of(template), {**parameters, "ServiceName": service}
            )
            for name, document in policy_documents(resolver):
                for statement in as_list(document["Statement"]):
                    if "sqs:SendMessage" in as_list(statement["Action"]):
                        resources = set(as_list(statement["Resource"]))
                        assert not resources & inboxes, (template.name, name)


# --- deployed to moto -------------------------------------------------------------


def physical_ids(target: Target, stack_name: str) -> dict[str, str]:
    summaries = target.client("cloudformation").list_stack_resources(
        StackName=stack_name
    )["StackResourceSummaries"]
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for summary in summaries
        if summary["LogicalResourceId"]
    }


def stack_resolver(
    target: Target, deployment: Deployment, part: str
) -> tuple[TemplateResolver, dict[str, str]]:
    """Reads a deployed stack's template with the stack's own values."""
    template = template_of(SHARED_TEMPLATE if part == "shared" else SERVICE_TEMPLATE)
    physical = physical_ids(target, deployment.names[part])

    def get_att(logical: str, attribute: str) -> str:
        kind, name = template["Resources"][logical]["Type"], physical[logical]
        if kind == "AWS::SQS::Queue":
            attributes = target.client("sqs").get_queue_attributes(
                QueueUrl=name, AttributeNames=["QueueArn"]
            )
            return attributes["Attributes"]["QueueArn"]
        if kind == "AWS::IAM::Role":
            return target.client("iam").get_role(RoleName=name)["Role"]["Arn"]
        if kind == "AWS::Logs::LogGroup":
            (group,) = target.client("logs").describe_log_groups(
                logGroupNamePrefix=name
            )["logGroups"]
            return group["arn"]
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::Kinesis::Stream" and attribute == "Arn":
            return target.client("kinesis").describe_stream_summary(StreamName=name)[
                "StreamDescriptionSummary"
            ]["StreamARN"]
        if kind == "AWS::DynamoDB::Table":
            table = target.client("dynamodb").describe_table(TableName=name)["Table"]
            return table["TableArn" if attribute == "Arn" else "LatestStreamArn"]
        raise AssertionError(f"no reader for {kind}.{attribute}")

    pseudo = {**PSEUDO, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    resolver = TemplateResolver(
        template=template,
        parameters=deployment.stack_parameters(part),
        pseudo=pseudo,
        ref=lambda logical: physical[logical],
        get_att=get_att,
    )
    return resolver, physical


def describe(target: Target, kind: str, physical: str, properties: dict) -> None:
    """Describe one resource through its own API; fail unless it is as declared."""
    if kind == "AWS::SNS::Topic":
        attributes = target.client("sns").get_topic_attributes(TopicArn=physical)
        assert attributes["Attributes"]["TopicArn"].endswith(properties["TopicName"])
    elif kind == "AWS::SQS::Queue":
        attributes = target.client("sqs").get_queue_attributes(
            QueueUrl=physical, AttributeNames=["All"]
        )["Attributes"]
        assert attributes["QueueArn"].endswith(":" + properties["QueueName"])
    elif kind == "AWS::SQS::QueuePolicy":
        for queue in properties["Queues"]:
            attributes = target.client("sqs").get_queue_attributes(
                QueueUrl=queue, AttributeNames=["Policy"]
            )["Attributes"]
            assert json.loads(attributes["Policy"]) == properties["PolicyDocument"]
    elif kind == "AWS::SNS::Subscription":
        sns = target.client("sns")
        subscriptions = sns.list_subscriptions_by_topic(
            TopicArn=properties["TopicArn"]
        )["Subscriptions"]
        (subscription,) = [
            s for s in subscriptions if s["Endpoint"] == properties["Endpoint"]
        ]
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"]
        )["Attributes"]
        assert attributes["RawMessageDelivery"].lower() == "true"
    elif kind == "AWS::Logs::LogGroup":
        groups = target.client("logs").describe_log_groups(logGroupNamePrefix=physical)[
            "logGroups"
        ]
        assert [group["logGroupName"] for group in groups] == [physical]
        assert groups[0]["retentionInDays"] == int(properties["RetentionInDays"])
    elif kind == "AWS::IAM::Role":
        iam = target.client("iam")
        iam.get_role(RoleName=physical)
        # The role's own policies, by name (AWS::IAM::Policy resources add
        # theirs to the same list): moto's CloudFormation stores their
        # documents as Python's repr of the template's, not as JSON.
        names = iam.list_role_policies(RoleName=physical)["PolicyNames"]
        assert {inline["PolicyName"] for inline in properties.get("Policies", [])} <= (
            set(names)
        )
    elif kind == "AWS::IAM::Policy":
        iam = target.client("iam")
        for role in properties["Roles"]:
            document = iam.get_role_policy(
                RoleName=role, PolicyName=properties["PolicyName"]
            )["PolicyDocument"]
            assert document == properties["PolicyDocument"]
    elif kind == "AWS::ECS::Cluster":
        (cluster,) = target.client("ecs").describe_clusters(clusters=[physical])[
            "clusters"
        ]
        assert cluster["status"] == "ACTIVE"
    elif kind == "AWS::ECS::TaskDefinition":
        definition = target.client("ecs").describe_task_definition(
            taskDefinition=physical
        )["taskDefinition"]
        assert definition["family"] == properties["Family"]
        (container,) = definition["containerDefinitions"]
        (declared,) = properties["ContainerDefinitions"]
        assert container["name"] == declared["Name"]
        assert container["image"] == declared["Image"]
        assert container["entryPoint"] + container["command"] == (
            declared["EntryPoint"] + declared["Command"]
        )
        assert container["environment"] == [
            {"name": item["Name"], "value": item["Value"]}
            for item in declared["Environment"]
        ]
    elif kind == "AWS::ECR::Repository":
        target.client("ecr").describe_repositories(repositoryNames=[physical])
    elif kind == "AWS::S3::Bucket":
        s3 = target.client("s3")
        (rule,) = s3.get_bucket_encryption(Bucket=physical)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        blocked = s3.get_public_access_block(Bucket=physical)
        assert all(blocked["PublicAccessBlockConfiguration"].values())
    elif kind == "AWS::Kinesis::Stream":
        summary = target.client("kinesis").describe_stream_summary(StreamName=physical)[
            "StreamDescriptionSummary"
        ]
        assert summary["StreamName"] == properties["Name"]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["StreamModeDetails"] == properties["StreamModeDetails"]
        assert summary["OpenShardCount"] == int(properties["ShardCount"])
        assert summary["RetentionPeriodHours"] == properties["RetentionPeriodHours"]
    elif kind == "AWS::DynamoDB::Table":
        table = target.client("dynamodb").describe_table(TableName=physical)["Table"]
        assert table["TableName"] == properties["TableName"]
        assert table["KeySchema"] == properties["KeySchema"]
        assert table["AttributeDefinitions"] == properties["AttributeDefinitions"]
        assert table["BillingModeSummary"]["BillingMode"] == properties["BillingMode"]
        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    elif kind == "AWS::Lambda::Function":
        function = target.client("lambda").get_function(FunctionName=physical)
        configuration = function["Configuration"]
        assert configuration["FunctionName"] == properties["FunctionName"]
        assert configuration["Role"] == properties["Role"]
        assert configuration["MemorySize"] == int(properties["MemorySize"])
        assert configuration["Timeout"] == properties["Timeout"]
        # moto hands a Number parameter back as a number (AWS: text).
        variables = configuration["Environment"]["Variables"]
        assert {name: str(value) for name, value in variables.items()} == {
            name: str(value)
            for name, value in properties["Environment"]["Variables"].items()
        }
        # moto keeps the image, but reports PackageType Zip and drops the
        # ImageConfig: the handler's path is checked against the template.
        assert function["Code"]["ImageUri"] == properties["Code"]["ImageUri"]
    else:
        raise AssertionError(f"no description for {kind}: add one to this test")


@pytest.mark.parametrize("part", ["shared", *SERVICES])
@pytest.mark.parametrize("picture", ["cqrs", "aws_picture"])
def test_every_resource_the_local_target_keeps_exists(request, target, picture, part):
    """Under approach 5 with the default backends (SNS, PostgreSQL), and with
    the paper's AWS figure (Kinesis, DynamoDB and its stream, Lambda)."""
    cqrs = request.getfixturevalue(picture)
    resolver, physical = stack_resolver(target, cqrs, part)
    kept = resolver.kept()
    on_aws = resolver_for(
        resolver.template, {**cqrs.stack_parameters(part), "Target": "aws"}
    ).kept()
    # The local target drops only what only AWS can make, nothing else.
    left_out = set(on_aws) - set(kept)
    assert set(kept) <= set(on_aws)
    for logical in left_out - AWS_ONLY_POLICIES:
        assert resolver.template["Resources"][logical]["Type"] in AWS_ONLY_TYPES
    skipped_by_moto = set(cqrs.results[part].applied)
    for logical, resource in kept.items():
        properties = resolver.resolve(resource.get("Properties", {}))
        if logical not in skipped_by_moto:
            assert physical.get(logical), f"{logical} was not created"
        describe(target, resource["Type"], physical.get(logical, ""), properties)


@pytest.mark.parametrize(
    ("approach", "fifo"),
    [("cqrs_es", False), ("event_sourcing", True), ("direct_publish", False)],
)
def test_the_platform_finds_the_stack_topology_and_changes_nothing(
    target, cqrs, approach, fifo
):
    """The services need no aws_bootstrap: their own provisioning, run against
    the stack, finds every topic, queue, policy and subscription as it wants."""
    if approach == "cqrs_es" and not fifo:
        deployment = cqrs
    else:
        deployment = Deployment(target, approach, fifo=fifo)
        deployment.results["shared"] = deploy_stack(
            target,
            name=deployment.names["shared"],
            template_path=SHARED_TEMPLATE,
            parameters=deployment.parameters,
        )
    try:
        report = ensure_topology(
            deployment.topology(), AwsSettings(endpoint_url=target.endpoint_url)
        )
        assert report.changes == ()
        shared = deployment.results["shared"].outputs
        for producer in deployment.topology().producers:
            key = f"{producer.capitalize()}EventsTopicArn"
            assert report.topic_arns[producer] == shared[key]
    finally:
        if deployment is not cqrs:
            delete_stack(target, deployment.names["shared"])


def test_the_platform_finds_the_streams_and_event_tables_and_changes_nothing(
    target, aws_picture
):
    """The paper's AWS figure needs no provisioning either: the platform's own
    (``ensure_topology`` for the streams and dead-letter queues,
    ``ensure_event_table`` for each event table) finds all of it as it wants,
    with the stack's shard count."""
    topology = aws_picture.topology()
    assert topology.delivery == "kinesis" and topology.kinesis_shards == 3
    report = ensure_topology(topology, AwsSettings(endpoint_url=target.endpoint_url))
    assert report.changes == ()
    assert report.queue_urls == {}
    shared = aws_picture.results["shared"].outputs
    for producer in topology.producers:
        key = f"{producer.capitalize()}EventsStreamArn"
        assert report.stream_arns[producer] == shared[key]
    for consumer, url in report.dead_letter_queue_urls.items():
        key = "".join(part.capitalize() for part in consumer.split("-"))
        # moto's CloudFormation writes AWS's host into the URL: compare names.
        output = shared[f"{key}InboxDeadLetterQueueUrl"]
        assert url.rsplit("/", 1)[-1] == output.rsplit("/", 1)[-1]
    dynamodb = target.client("dynamodb")
    ensure_event_table = event_table_provisioning().ensure_event_table
    for service in SERVICES:
        name = topology.event_table_name(service)
        assert ensure_event_table(dynamodb, name) == []
        outputs = aws_picture.results[service].outputs
        assert outputs["EventTableName"] == name
        latest = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        assert outputs["EventTableStreamArn"] == latest
    # No mapping on moto: the platform's runner reads these streams locally.
    lambda_client = target.client("lambda")
    assert lambda_client.list_event_source_mappings()["EventSourceMappings"] == []


def test_a_redeploy_keeps_the_values_it_is_not_given(target):
    """Like ``aws cloudformation deploy``: an update names only what changes."""
    deployment = Deployment(target, "event_sourcing")
    name = deployment.names["shared"]
    try:
        first = deploy_stack(
            target,
            name=name,
            template_path=SHARED_TEMPLATE,
            parameters=deployment.parameters,
        )
        again = deploy_stack(
            target,
            name=name,
            template_path=SHARED_TEMPLATE,
            parameters={"Target": "local", "EventFifo": "false"},
        )
        # Nothing to change: CloudFormation says so, and the stack stays as it was.
        assert again.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        assert again.outputs == first.outputs
        report = ensure_topology(
            deployment.topology(), AwsSettings(endpoint_url=target.endpoint_url)
        )
        assert report.changes == ()
    finally:
        delete_stack(target, name)


def report_from_outputs(topology, outputs: dict[str, str], sqs) -> TopologyReport:
    """What aws_bootstrap would report, read from the shared stack's outputs."""

    def key(consumer: str) -> str:
        return "".join(part.capitalize() for part in consumer.split("-"))

    queue_urls = {c: outputs[f"{key(c)}InboxUrl"] for c in topology.consumers}
    return TopologyReport(
        topic_arns={p: outputs[f"{key(p)}EventsTopicArn"] for p in topology.producers},
        queue_urls=queue_urls,
        queue_arns={
            consumer: sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            for consumer, url in queue_urls.items()
        },
        dead_letter_queue_urls={
            c: outputs[f"{key(c)}InboxDeadLetterQueueUrl"] for c in topology.consumers
        },
        subscription_arns={},
    )


def test_an_event_published_to_the_stack_topic_reaches_the_subscribed_inboxes(
    target, cqrs
):
    """The relay's publisher, routed by the stack's outputs instead of
    aws_bootstrap: the envelope arrives as published in every subscribed inbox,
    whose redrive policy is the platform's."""
    topology = cqrs.topology()
    sqs = target.client("sqs")
    outputs = cqrs.results["shared"].outputs
    routes = resolve_routes(topology, report_from_outputs(topology, outputs, sqs))
    envelope = new_envelope(
        event_type="CustomerRegistered",
        aggregate_type="Customer",
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        producer="customer",
        payload={
            "customer_id": str(uuid.uuid4()),
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "address": "12 St James's Square, London",
        },
    )
    body = encode(envelope)
    route = routes.producer("customer")
    publisher = SnsPublisher(
        route.topic_arn, AwsSettings(endpoint_url=target.endpoint_url), route.fifo
    )
    result = publisher.publish_batch(
        [
            outgoing_message(
                event_id=str(envelope.event_id),
                body=body,
                aggregate_id=str(envelope.aggregate_id),
                event_type=envelope.event_type,
                aggregate_type=envelope.aggregate_type,
            )
        ]
    )
    assert result.all_accepted, result.failed
    for consumer in topology.subscribers_of("customer"):
        inbox = routes.consumer(consumer)
        messages = sqs.receive_message(
            QueueUrl=inbox.queue_url, WaitTimeSeconds=2, MessageAttributeNames=["All"]
        ).get("Messages", [])
        assert [message["Body"] for message in messages] == [body], consumer
        assert messages[0]["MessageAttributes"]["event_type"]["StringValue"] == (
            "CustomerRegistered"
        )
        sqs.delete_message(
            QueueUrl=inbox.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"]
        )
        attributes = sqs.get_queue_attributes(
            QueueUrl=inbox.queue_url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        dead_letter_arn = sqs.get_queue_attributes(
            QueueUrl=inbox.dead_letter_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": topology.max_receive_count,
        }
    # The customer service's own inbox listens to the order service's topic only.
    customer_inbox = routes.consumer("customer").queue_url
    assert "Messages" not in sqs.receive_message(
        QueueUrl=customer_inbox, WaitTimeSeconds=0
    )


# --- manage.py deploy -------------------------------------------------------------


@pytest.fixture
def unconfigured(monkeypatch, tmp_path):
    """No approach or event settings from the environment or the learner's .env."""
    monkeypatch.setenv("PLATFORM_DOTENV", str(tmp_path / "empty.env"))
    for name in [
        "ARCHITECTURE_APPROACH",
        "EVENT_DELIVERY",
        "EVENT_STORE",
        "EVENT_KINESIS_SHARDS",
        "EVENT_FIFO",
        "EVENT_MAX_RECEIVE_COUNT",
        "EVENT_VISIBILITY_TIMEOUT",
        "EVENT_TOPOLOGY_PREFIX",
        "AWS_ENDPOINT_URL",
    ]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("unconfigured")
def test_the_command_deploys_prints_the_outputs_and_deletes(target, capsys):
    prefix = run_prefix()
    arguments = [
        "manage.py",
        "deploy",
        "--target",
        "local",
        "--endpoint-url",
        target.endpoint_url,
        "--prefix",
        prefix,
        "--approach",
        "event_sourcing",
    ]
    name = f"microservices-lab-{prefix.strip('-')}"
    try:
        assert main(arguments) == 0
        out = capsys.readouterr().out
        for stack in ("shared", "customer", "order"):
            assert f"stack {name}-{stack}: CREATE_COMPLETE" in out
        shared = deployed_stack(target, f"{name}-shared").outputs
        assert shared["CustomerEventsTopicArn"].endswith(f":{prefix}customer-events")
        assert "CustomerEventsTopicArn" in out and shared["OrderInboxUrl"] in out
        assert "OrderInboxFromCustomerEvents" in out  # made through the SNS API

        # A service's own --service is the command's, not "run a Django command".
        assert main([*arguments, "--delete", "--service", "order"]) == 0
        assert deployed_stack(target, f"{name}-order") is None
        assert deployed_stack(target, f"{name}-shared") is not None

        # Without --approach and with no ARCHITECTURE_APPROACH configured (a
        # pipeline's case), a deploy keeps the approach the stacks have.
        assert main([*arguments[:-2], "--service", "order"]) == 0
        order = deployed_stack(target, f"{name}-order")
        assert order.parameters["Approach"] == "event_sourcing"
    finally:
        assert main([*arguments, "--delete"]) == 0
    out = capsys.readouterr().out
    assert f"stack {name}-shared: deleted" in out
    assert deployed_stack(target, f"{name}-shared") is None


@pytest.mark.usefixtures("unconfigured")
def test_the_command_fails_with_a_clear_error_and_no_traceback(target, capsys):
    arguments = ["manage.py", "deploy", "--prefix", run_prefix(), "--service", "shared"]
    assert main([*arguments, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stack microservices-lab-")
    assert "Could not connect" in err and "Traceback" not in err

    with pytest.raises(DeployError, match="no value for the parameters Approach"):
        deploy_stack(
            target, name="incomplete", template_path=SHARED_TEMPLATE, parameters={}
        )


class RolledBackStack:
    """A CloudFormation client whose new stack rolls back, as AWS reports it."""

    created = False

    def describe_stacks(self, StackName):
        if not self.created:
            error = {"Code": "ValidationError", "Message": "Stack does not exist"}
            raise ClientError({"Error": error}, "DescribeStacks")
        reason = "The following resource(s) failed to create: [Database]."
        stack = {
            "StackName": "lab-shared",
            "StackStatus": "ROLLBACK_COMPLETE",
            "StackStatusReason": reason,
        }
        return {"Stacks": [stack]}

    def create_stack(self, **request):
        self.created = True
        return {"StackId": "stack-id"}

    def describe_stack_events(self, StackName):
        failed = {
            "LogicalResourceId": "Database",
            "ResourceType": "AWS::RDS::DBCluster",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Cannot find version 9.6 for aurora-postgresql",
        }
        fine = {"LogicalResourceId": "Cluster", "ResourceStatus": "CREATE_COMPLETE"}
        return {"StackEvents": [failed, fine]}


def test_a_failed_stack_reports_each_failed_resource_and_why(monkeypatch):
    client = RolledBackStack()
    monkeypatch.setattr(Target, "client", lambda target, service: client)
    with pytest.raises(DeployError) as failure:
        deploy_stack(
            Target(region="eu-west-1"),
            name="lab-shared",
            template_path=SHARED_TEMPLATE,
            parameters={"Approach": "cqrs_es"},
            poll_seconds=0.01,
        )
    assert str(failure.value) == (
        "stack lab-shared ended ROLLBACK_COMPLETE: The following resource(s) "
        "failed to create: [Database].\n"
        "  Database (AWS::RDS::DBCluster): Cannot find version 9.6 for "
        "aurora-postgresql"
    )


@pytest.mark.usefixtures("unconfigured")
def test_the_aws_target_refuses_without_credentials(monkeypatch, capsys, tmp_path):
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arguments = ["manage.py", "deploy", "--target", "aws", "--region", "eu-west-1"]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "found no AWS credentials" in err and "Nothing was deployed" in err


@pytest.mark.usefixtures("unconfigured")
def test_the_command_refuses_what_it_does_not_deploy(monkeypatch, capsys, target):
    monkeypatch.setenv("ARCHITECTURE_APPROACH", "shared_db")
    arguments = ["manage.py", "deploy", "--endpoint-url", target.endpoint_url]
    assert main(arguments) == 2
    assert "shared_db is not deployed" in capsys.readouterr().err

    monkeypatch.setenv("ARCHITECTURE_APPROACH", "event_sourcing")
    monkeypatch.setenv("EVENT_DELIVERY", "sqs")
    assert main(arguments) == 2
    assert "EVENT_DELIVERY=sqs" in capsys.readouterr().err

    monkeypatch.setenv("EVENT_DELIVERY", "pigeon")
    assert main(arguments) == 2
    assert "EVENT_DELIVERY=pigeon: the stacks deploy sns or kinesis" in (
        capsys.readouterr().err
    )
    monkeypatch.setenv("EVENT_DELIVERY", "kinesis")
    monkeypatch.setenv("EVENT_STORE", "sqlite")
    assert main(arguments) == 2
    assert "EVENT_STORE=sqlite: the stacks deploy postgres or dynamodb" in (
        capsys.readouterr().err
    )
    monkeypatch.delenv("EVENT_STORE")
    monkeypatch.setenv("EVENT_FIFO", "true")
    assert main([*arguments, "--prefix", run_prefix()]) == 2
    assert "EVENT_DELIVERY=kinesis with EVENT_FIFO=true" in capsys.readouterr().err

    monkeypatch.delenv("ARCHITECTURE_APPROACH")
    monkeypatch.delenv("EVENT_DELIVERY")
    monkeypatch.delenv("EVENT_FIFO")
    assert main([*arguments, "--prefix", run_prefix()]) == 2
    assert "name the approach to deploy" in capsys.readouterr().err


@pytest.mark.usefixtures("unconfigured")
def test_the_command_deploys_the_configured_backends_and_keeps_them(
    monkeypatch, target, capsys
):
    """EVENT_DELIVERY, EVENT_STORE and EVENT_KINESIS_SHARDS become the stacks'
    parameters; a later deploy without them (a pipeline's) keeps them."""
    prefix = run_prefix()
    name = f"microservices-lab-{prefix.strip('-')}"
    arguments = [
        "manage.py",
        "deploy",
        "--endpoint-url",
        target.endpoint_url,
        "--prefix",
        prefix,
        "--service",
        "shared",
    ]
    monkeypatch.setenv("ARCHITECTURE_APPROACH", "event_sourcing")
    monkeypatch.setenv("EVENT_DELIVERY", "kinesis")
    monkeypatch.setenv("EVENT_STORE", "dynamodb")
    monkeypatch.setenv("EVENT_KINESIS_SHARDS", "1")
    try:
        assert main(arguments) == 0
        out = capsys.readouterr().out
        assert "CustomerEventsStreamArn" in out and "CustomerEventsTopicArn" not in out
        kinesis = target.client("kinesis")
        summary = kinesis.describe_stream_summary(StreamName=f"{prefix}order-events")
        assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 1

        for setting in ("EVENT_DELIVERY", "EVENT_STORE", "EVENT_KINESIS_SHARDS"):
            monkeypatch.delenv(setting)
        assert main(arguments) == 0
        shared = deployed_stack(target, f"{name}-shared")
        assert shared.parameters["EventDelivery"] == "kinesis"
        assert shared.parameters["EventStore"] == "dynamodb"
        assert shared.parameters["EventKinesisShards"] == "1"
        assert shared.outputs["EventStore"] == "dynamodb"
    finally:
        assert main([*arguments, "--delete"]) == 0


def test_platform_names_are_stack_safe():
    assert platform_name_for("") == "microservices-lab"
    assert platform_name_for("Demo_Run-1-") == "microservices-lab-demo-run-1"
    assert re.fullmatch(r"[a-z][a-z0-9-]*", platform_name_for("__x__"))
