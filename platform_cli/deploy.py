"""``manage.py deploy``: the CloudFormation stacks in ``deploy/``, locally or on AWS.

The shared stack (the event backbone, the cluster, the load balancer) first,
then one stack per service, each given the shared stack's outputs; ``--delete``
removes them in the reverse order. ``--target local`` deploys to the
platform's moto server (started if need be), ``--target aws`` to AWS with
boto3's default credentials.

``EVENT_DELIVERY`` (sns or kinesis) and ``EVENT_STORE`` (postgres or
dynamodb) choose which of the paper's AWS pictures the stacks make, like the
other settings: given or configured, else the deployed shared stack's.
"""

from __future__ import annotations

import argparse
import os
import re

from platform_cli.errors import PlatformError
from shared_events.approaches import Approach, UnknownApproach, approach_info
from shared_events.configuration import SERVICES, load_env
from stack import environment
from stack.cloudformation import (
    DeployError,
    StackResult,
    Target,
    aws_credentials_available,
    delete_stack,
    deploy_stack,
    deployed_stack,
)
from stack.cloudformation_templates import SERVICE_TEMPLATE, SHARED_TEMPLATE
from stack.moto_server import MotoServerError, ensure_moto_daemon

NAME = "deploy"
HELP = "deploy the CloudFormation stacks (deploy/) to the local moto server or AWS"
DESCRIPTION = (
    "Deploy the shared stack, then each service's stack, and print their "
    "outputs. --target local uses the platform's moto server (or "
    "AWS_ENDPOINT_URL); --target aws uses boto3's default credentials. "
    "Names follow EVENT_TOPOLOGY_PREFIX, so services find their topics and "
    "queues without aws_bootstrap. See deploy/README.md."
)
# Its --service names the stacks to deploy: main must not read it as the
# "run a Django command on one service" switch.
OWN_SERVICE_OPTION = True
BASE_NAME = "microservices-lab"
PLATFORM_NAME = r"[a-z][a-z0-9-]{0,39}"  # the templates' PlatformName
# Settings the stacks take as parameters, when configured.
SETTING_PARAMETERS = {
    "EVENT_MAX_RECEIVE_COUNT": "EventMaxReceiveCount",
    "EVENT_VISIBILITY_TIMEOUT": "EventVisibilityTimeout",
    "EVENT_KINESIS_SHARDS": "EventKinesisShards",
}
# The backends the stacks deploy, by setting: the paper's AWS pictures.
# EVENT_DELIVERY=sqs (a producer sending to every inbox itself) is local only.
DEPLOYED_BACKENDS = {
    "EVENT_DELIVERY": ("EventDelivery", ("sns", "kinesis")),
    "EVENT_STORE": ("EventStore", ("postgres", "dynamodb")),
}
# What every stack of a platform must agree on with its shared stack.
SHARED_SETTINGS = (
    "Approach",
    "EventDelivery",
    "EventStore",
    "EventFifo",
    "EventKinesisShards",
    "EventMaxReceiveCount",
    "EventVisibilityTimeout",
)
# shared_db shares one database between both services: the flaw the lab shows
# locally, and not a shape the per-service stacks give.
DEPLOYABLE = [a.value for a in Approach if not approach_info(a).shares_database]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=["local", "aws"],
        default="local",
        help="local: the moto server (default); aws: AWS, default credentials",
    )
    parser.add_argument(
        "--service",
        choices=[*SERVICES, "shared", "all"],
        default="all",
        help="a service's stack (after the shared one), the shared stack alone, "
        "or all three (default)",
    )
    parser.add_argument(
        "--approach",
        choices=DEPLOYABLE,
        help="the approach to deploy (default: ARCHITECTURE_APPROACH, else the "
        "deployed one)",
    )
    parser.add_argument(
        "--delete",
        action="store_true",
        help="delete the stacks instead: the service stacks, then (with --service "
        "all or shared) the shared one",
    )
    parser.add_argument(
        "--prefix",
        help="topic and queue name prefix (default: EVENT_TOPOLOGY_PREFIX)",
    )
    parser.add_argument(
        "--name",
        help=f"the platform's name, and its stacks' prefix (default: {BASE_NAME}, "
        "followed by the topology prefix)",
    )
    parser.add_argument(
        "--image-tag",
        help="the image tag the tasks run (default: the deployed one, else latest)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter, for every stack that declares it (repeatable): "
        "e.g. VpcId=vpc-... SubnetIds=subnet-a,subnet-b",
    )
    parser.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    parser.add_argument(
        "--endpoint-url",
        help="with --target local: this moto server instead of the platform's",
    )


def run(options: argparse.Namespace) -> int:
    """``python manage.py deploy``: deploy or delete the stacks, print outputs."""
    env = load_env()
    prefix = _topology_prefix(options, env)
    platform_name = options.name or platform_name_for(prefix)
    if not re.fullmatch(PLATFORM_NAME, platform_name):
        raise PlatformError(
            f"the platform name {platform_name!r} (--name, or made from the "
            "prefix) takes up to 40 lower-case letters, digits and '-', starting "
            "with a letter"
        )
    stacks = _stack_names(platform_name, options.service)
    parameters = {} if options.delete else _parameters(options, env, platform_name)
    target = _target(options)
    try:
        if options.delete:
            _delete(target, stacks, options.service)
            return 0
        _agree_with_the_shared_stack(target, stacks[0], parameters)
        shared = deploy_stack(
            target,
            name=stacks[0],
            template_path=SHARED_TEMPLATE,
            parameters=parameters,
        )
        _print(shared, target)
        for name, service in zip(stacks[1:], _services(options.service), strict=True):
            result = deploy_stack(
                target,
                name=name,
                template_path=SERVICE_TEMPLATE,
                parameters={**shared.outputs, **parameters, "ServiceName": service},
                template_bucket=shared.outputs["TemplateBucketName"],
            )
            _print(result, target)
    except DeployError as error:
        raise PlatformError(f"{error} ({target.name} target)") from None
    return 0


def _delete(target: Target, stacks: list[str], service: str) -> None:
    """The service stacks, then the shared one unless a service stack is kept."""
    keep_shared = service in SERVICES
    for name in reversed(stacks[1:] if keep_shared else stacks):
        gone = delete_stack(target, name)
        print(f"stack {name}: {'deleted' if gone else 'not there'}")


def platform_name_for(prefix: str) -> str:
    """``microservices-lab``, followed by the topology prefix made name-safe."""
    suffix = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-")
    return f"{BASE_NAME}-{suffix}" if suffix else BASE_NAME


def _stack_names(platform_name: str, service: str) -> list[str]:
    """The shared stack's name, then each requested service stack's."""
    return [f"{platform_name}-{name}" for name in ["shared", *_services(service)]]


def _services(service: str) -> list[str]:
    if service == "all":
        return list(SERVICES)
    return [] if service == "shared" else [service]


def _target(options: argparse.Namespace) -> Target:
    region = options.region or os.environ.get("AWS_REGION") or "us-east-1"
    if options.target == "local":
        endpoint = options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            try:
                endpoint = ensure_moto_daemon(state_dir=environment.MOTO_STATE_DIR)
            except MotoServerError as error:
                raise PlatformError(f"the local AWS did not start: {error}") from None
        return Target(region=region, endpoint_url=endpoint)
    if options.endpoint_url:
        raise PlatformError("--endpoint-url is for --target local only")
    region = options.region or os.environ.get("AWS_REGION")
    region = region or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise PlatformError("--target aws needs a region: --region or AWS_REGION")
    if not aws_credentials_available(region):
        raise PlatformError(
            "--target aws found no AWS credentials (environment variables, "
            "~/.aws, SSO or an instance role): configure some, e.g. "
            "`aws configure` or AWS_PROFILE, and try again. Nothing was deployed."
        )
    return Target(region=region)


def _topology_prefix(options: argparse.Namespace, env) -> str:
    if options.prefix is not None:
        return options.prefix
    return env.str("EVENT_TOPOLOGY_PREFIX", default="")


def _parameters(options: argparse.Namespace, env, platform_name: str) -> dict[str, str]:
    """The stacks' parameter values: what is given or configured, then --parameter.

    A setting neither given nor configured (in the environment or .env) is
    left out: the deployed shared stack's value is used, else the template's
    default, which is the services' own. So a pipeline without the platform's
    .env cannot flip a deployed stack's approach, backends or FIFO queues by
    accident.
    """
    values = {
        "Target": options.target,
        "PlatformName": platform_name,
        "EventTopologyPrefix": _topology_prefix(options, env),
    }
    approach = options.approach or os.environ.get("ARCHITECTURE_APPROACH")
    if approach:
        try:
            info = approach_info(approach)
        except UnknownApproach as error:
            raise PlatformError(str(error)) from None
        if info.shares_database:
            raise PlatformError(
                f"{approach} is not deployed: it shares one database between both "
                "services, which the lab shows locally. Deployable: "
                + ", ".join(DEPLOYABLE)
            )
        values["Approach"] = info.approach.value
    if "EVENT_FIFO" in os.environ:
        values["EventFifo"] = "true" if env.bool("EVENT_FIFO") else "false"
    for setting, parameter in SETTING_PARAMETERS.items():
        if setting in os.environ:
            values[parameter] = str(env.int(setting))
    if options.image_tag:
        values["ImageTag"] = options.image_tag
    for setting, (parameter, deployed) in DEPLOYED_BACKENDS.items():
        if setting in os.environ:
            values[parameter] = _deployed_backend(setting, env.str(setting), deployed)
    for item in options.parameter:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise PlatformError(f"--parameter takes KEY=VALUE, not {item!r}")
        values[key] = value
    return values


def _deployed_backend(setting: str, value: str, deployed: tuple[str, ...]) -> str:
    if value in deployed:
        return value
    if setting == "EVENT_DELIVERY" and value == "sqs":
        raise PlatformError(
            "EVENT_DELIVERY=sqs: the stacks deploy SNS topics fanned out to SQS "
            "inboxes (sns) or Kinesis streams (kinesis), the paper's pictures; "
            "direct SQS delivery is local only"
        )
    raise PlatformError(f"{setting}={value}: the stacks deploy {' or '.join(deployed)}")


def _agree_with_the_shared_stack(
    target: Target, shared_name: str, parameters: dict[str, str]
) -> None:
    """Fill in, from the deployed shared stack, what every stack must agree on."""
    deployed = deployed_stack(target, shared_name)
    for key in SHARED_SETTINGS:
        if key not in parameters and deployed and key in deployed.parameters:
            parameters[key] = deployed.parameters[key]
    if "Approach" not in parameters:
        raise PlatformError(
            "name the approach to deploy: --approach, or ARCHITECTURE_APPROACH "
            "(or deploy over a stack that has one)"
        )
    # moto checks no template Rules, so the command refuses this itself.
    if parameters.get("EventDelivery") == "kinesis" and (
        parameters.get("EventFifo") == "true"
    ):
        raise PlatformError(
            "EVENT_DELIVERY=kinesis with EVENT_FIFO=true: FIFO applies to SNS and "
            "SQS only; a stream keeps order per partition key (the aggregate id) "
            "already. Unset EVENT_FIFO."
        )


def _print(result: StackResult, target: Target) -> None:
    where = target.endpoint_url or f"AWS {target.region}"
    print(f"stack {result.name}: {result.status} ({where})")
    width = max((len(key) for key in result.outputs), default=0)
    for key, value in sorted(result.outputs.items()):
        print(f"  {key:<{width}}  {value}")
    if result.applied:
        print(
            "  completed through the SNS, SQS and S3 APIs (moto's CloudFormation "
            "skips them): " + ", ".join(result.applied)
        )
