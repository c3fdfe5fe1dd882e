"""Deploying the CloudFormation templates in ``deploy/``, to AWS or to moto.

Things a learner should notice:

* One code path for both targets: :class:`Target` differs only by where the
  clients point (the local moto server, or AWS with the default credentials).
  :func:`deploy_stack` creates or updates a stack, waits until it settles and
  returns its outputs; a failure raises :class:`DeployError` with the reasons
  CloudFormation gave for each failed resource.
* moto's CloudFormation answers CREATE_COMPLETE while silently skipping some
  resource types, or some of their properties (``MOTO_SKIPPED_TYPES``: SNS
  subscriptions, SQS queue policies, an S3 bucket's public access block,
  ownership and lifecycle). On the local target :func:`deploy_stack` then
  completes them itself, through the SNS, SQS and S3 APIs, from the
  template's own properties: the stack ends up as AWS would have built it.
* ``stack.cloudformation_templates`` reads the templates and evaluates
  their conditions and properties for some parameters: that is how the
  local target fills moto's gaps.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from stack.cloudformation_templates import (
    DeployError,
    TemplateResolver,
    load_template,
    template_parameters,
)

#: A local endpoint accepts any credentials; boto3 needs some to sign with.
LOCAL_CREDENTIALS = ("testing", "testing")
CAPABILITIES = ["CAPABILITY_IAM"]
#: The most CloudFormation takes as TemplateBody; a larger one goes through S3,
#: which takes up to 1 MB (TemplateURL).
MAX_TEMPLATE_BODY_BYTES = 51_200
MAX_TEMPLATE_URL_BYTES = 1_000_000

# What a call to an endpoint can raise: an answer (ClientError), no answer
# (BotoCoreError), or an answer that is no AWS answer at all (a server error page).
_AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)
_SETTLED_WELL = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
_NO_UPDATES = "No updates are to be performed"


# --- Where stacks go ------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The local moto server (``endpoint_url`` set) or AWS (``endpoint_url=None``).

    For AWS, credentials come from boto3's default chain and an
    ``AWS_ENDPOINT_URL`` in the environment is ignored, so a local setting can
    never send a real deployment elsewhere.
    """

    region: str
    endpoint_url: str | None = None

    @property
    def local(self) -> bool:
        return self.endpoint_url is not None

    @property
    def name(self) -> str:
        return "local" if self.local else "aws"

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` at this target, built once."""
        key = (self, service)
        if key not in _clients:
            _clients[key] = self._new_client(service)
        return _clients[key]

    def _new_client(self, service: str) -> Any:
        if self.local:
            return boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=LOCAL_CREDENTIALS[0],
                aws_secret_access_key=LOCAL_CREDENTIALS[1],
            )
        return boto3.session.Session(region_name=self.region).client(
            service,
            config=Config(
                ignore_configured_endpoint_urls=True,
                retries={"mode": "standard", "max_attempts": 5},
            ),
        )


_clients: dict[tuple[Target, str], Any] = {}


def aws_credentials_available(region: str) -> bool:
    """Does boto3's default chain find credentials? No AWS service is called."""
    return boto3.session.Session(region_name=region).get_credentials() is not None


# --- Deploying and deleting -----------------------------------------------------


@dataclass(frozen=True)
class StackResult:
    """A stack: its status, parameters and outputs, and what the target added."""

    name: str
    status: str
    outputs: dict[str, str]
    parameters: dict[str, str] = field(default_factory=dict)
    # The resources moto's CloudFormation skips, made through their own APIs.
    applied: tuple[str, ...] = ()

    @classmethod
    def of(cls, stack: Mapping[str, Any], applied: tuple[str, ...] = ()) -> StackResult:
        """From ``DescribeStacks``' answer for one stack."""
        return cls(
            name=stack["StackName"],
            status=stack["StackStatus"],
            outputs={
                o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])
            },
            parameters={
                item["ParameterKey"]: item.get("ParameterValue", "")
                for item in stack.get("Parameters", [])
            },
            applied=applied,
        )


def deploy_stack(
    target: Target,
    *,
    name: str,
    template_path: Path,
    parameters: Mapping[str, str],
    template_bucket: str | None = None,
    poll_seconds: float | None = None,
    timeout: float | None = None,
) -> StackResult:
    """Create the stack, or update it; wait until it settles; return its outputs.

    The template goes inline, or with ``template_bucket`` through that S3
    bucket (CloudFormation takes 51,200 bytes inline, 1 MB from S3). A stack
    left in ROLLBACK_COMPLETE by a failed first creation is deleted and
    created again, which is what CloudFormation requires.
    """
    poll_seconds = poll_seconds or (0.2 if target.local else 10.0)
    timeout = timeout or (120.0 if target.local else 3 * 3600.0)
    body = Path(template_path).read_text()
    if template_bucket is None and len(body.encode()) > MAX_TEMPLATE_BODY_BYTES:
        raise DeployError(
            f"{template_path} is over CloudFormation's {MAX_TEMPLATE_BODY_BYTES} "
            "bytes for a template sent inline: deploy it through S3 (template_bucket)"
        )
    if len(body.encode()) > MAX_TEMPLATE_URL_BYTES:
        raise DeployError(
            f"{template_path} is over CloudFormation's {MAX_TEMPLATE_URL_BYTES} "
            "bytes for a template read from S3: split it into nested stacks"
        )
    template = load_template(template_path)
    cloudformation = target.client("cloudformation")
    try:
        if template_bucket is None:
            source = {"TemplateBody": body}
        else:
            source = {"TemplateURL": upload_template(target, template_bucket, body)}
        existing = _describe(cloudformation, name)
        if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            _delete_and_wait(cloudformation, existing["StackId"], poll_seconds, timeout)
            existing = None
        previous = StackResult.of(existing).parameters if existing else {}
        values = template_parameters(template, parameters, previous)
        request = {
            "StackName": name,
            **source,
            # A kept value goes as itself rather than as UsePreviousValue: the
            # same for templates without NoEcho parameters, and moto fails on
            # UsePreviousValue for a parameter that took its default.
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in values.items()
            ],
            "Capabilities": CAPABILITIES,
        }
        if existing is None:
            stack_id = cloudformation.create_stack(**request)["StackId"]
        else:
            stack_id = existing["StackId"]
            try:
                cloudformation.update_stack(**request)
            except ClientError as error:
                if _NO_UPDATES not in str(error):
                    raise
        stack = _wait(cloudformation, stack_id, poll_seconds, timeout)
        applied: tuple[str, ...] = ()
        if target.local:
            applied = apply_moto_skipped_resources(target, template, values, stack)
    except _AWS_ERRORS as error:
        raise DeployError(f"stack {name}: {_reason(error)}") from None
    return StackResult.of(stack, applied)


def upload_template(target: Target, bucket: str, body: str) -> str:
    """Put a template in ``bucket`` under its content hash; its HTTPS URL.

    Named by content, an unchanged template is the same object: an update
    that changes nothing finds nothing to do.
    """
    key = f"templates/{hashlib.sha256(body.encode()).hexdigest()}.yaml"
    target.client("s3").put_object(
        Bucket=bucket, Key=key, Body=body.encode(), ContentType="text/yaml"
    )
    return f"https://{bucket}.s3.{target.region}.amazonaws.com/{key}"


def empty_bucket(target: Target, bucket: str) -> int:
    """Delete every object (and every version) in ``bucket``, so that its
    stack can delete it; how many were deleted."""
    s3 = target.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
            deleted += len(objects)
    return deleted


def delete_stack(
    target: Target,
    name: str,
    *,
    poll_seconds: float | None = None,
    timeout: float | None = None,
) -> bool:
    """Delete the stack and wait until it is gone; False if there was none.

    Its S3 buckets are emptied first: CloudFormation deletes no bucket that
    holds objects (the shared stack's holds the uploaded templates).
    """
    poll_seconds = poll_seconds or (0.2 if target.local else 10.0)
    timeout = timeout or (120.0 if target.local else 3600.0)
    cloudformation = target.client("cloudformation")
    try:
        existing = _describe(cloudformation, name)
        if existing is None:
            return False
        for bucket in _stack_buckets(cloudformation, existing["StackId"]):
            empty_bucket(target, bucket)
        _delete_and_wait(cloudformation, existing["StackId"], poll_seconds, timeout)
    except _AWS_ERRORS as error:
        raise DeployError(f"stack {name}: {_reason(error)}") from None
    return True


def _stack_buckets(cloudformation: Any, stack_id: str) -> list[str]:
    pages = cloudformation.get_paginator("list_stack_resources").paginate(
        StackName=stack_id
    )
    return [
        resource["PhysicalResourceId"]
        for page in pages
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::S3::Bucket"
        and resource.get("PhysicalResourceId")
        and resource["ResourceStatus"] != "DELETE_COMPLETE"
    ]


def deployed_stack(target: Target, name: str) -> StackResult | None:
    """The stack as deployed now, or None when there is no such stack."""
    try:
        stack = _describe(target.client("cloudformation"), name)
    except _AWS_ERRORS as error:
        raise DeployError(f"stack {name}: {_reason(error)}") from None
    return None if stack is None else StackResult.of(stack)


def _describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0] if stacks else None


def _wait(
    cloudformation: Any, stack_id: str, poll_seconds: float, timeout: float
) -> dict[str, Any]:
    """Poll until the stack is no longer in progress; raise unless it went well."""
    deadline = time.monotonic() + timeout
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise DeployError(
                f"stack {stack['StackName']} still {status} after {timeout:.0f}s"
            )
        time.sleep(poll_seconds)
    if status not in _SETTLED_WELL:
        reasons = _failure_reasons(cloudformation, stack_id)
        raise DeployError(
            f"stack {stack['StackName']} ended {status}"
            + (
                f": {stack['StackStatusReason']}"
                if stack.get("StackStatusReason")
                else ""
            )
            + "".join(f"\n  {reason}" for reason in reasons)
        )
    return stack


def _delete_and_wait(
    cloudformation: Any, stack_id: str, poll_seconds: float, timeout: float
) -> None:
    cloudformation.delete_stack(StackName=stack_id)
    _wait(cloudformation, stack_id, poll_seconds, timeout)


def _failure_reasons(cloudformation: Any, stack_id: str, limit: int = 10) -> list[str]:
    """The failed resources of the latest operation, oldest first."""
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    failed = [
        f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')}): "
        f"{event.get('ResourceStatusReason', event['ResourceStatus'])}"
        for event in events
        if event["ResourceStatus"].endswith("_FAILED")
    ]
    return list(reversed(failed[:limit]))


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', error)}"
    return f"{type(error).__name__}: {error}"


# --- What moto's CloudFormation skips, made through the services' own APIs -------


def _apply_queue_policy(
    target: Target, properties: Mapping[str, Any], physical_id: str
) -> None:
    sqs = target.client("sqs")
    policy = json.dumps(properties["PolicyDocument"])
    for queue_url in properties["Queues"]:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})


def _apply_subscription(
    target: Target, properties: Mapping[str, Any], physical_id: str
) -> None:
    attributes = {
        key: _attribute_text(properties[key])
        for key in (
            "RawMessageDelivery",
            "FilterPolicy",
            "FilterPolicyScope",
            "RedrivePolicy",
            "DeliveryPolicy",
        )
        if key in properties
    }
    target.client("sns").subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )


def _apply_bucket_settings(
    target: Target, properties: Mapping[str, Any], physical_id: str
) -> None:
    """What moto's CloudFormation drops from a bucket it makes (it keeps only
    the encryption and the tags): public access, ownership, lifecycle."""
    s3 = target.client("s3")
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=physical_id,
            PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
        )
    if "OwnershipControls" in properties:
        s3.put_bucket_ownership_controls(
            Bucket=physical_id, OwnershipControls=properties["OwnershipControls"]
        )
    if "LifecycleConfiguration" in properties:
        rules = [
            {
                "ID": rule["Id"],
                "Status": rule["Status"],
                "Filter": {"Prefix": rule.get("Prefix", "")},
                "Expiration": {"Days": int(rule["ExpirationInDays"])},
            }
            for rule in properties["LifecycleConfiguration"]["Rules"]
        ]
        s3.put_bucket_lifecycle_configuration(
            Bucket=physical_id, LifecycleConfiguration={"Rules": rules}
        )


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


#: Resource types moto's CloudFormation reports as created but never makes (or
#: makes only in part), in the order to complete them in (a queue's policy
#: before the subscriptions to it). Each is called with the resource's
#: resolved properties and its physical id.
MOTO_SKIPPED_TYPES: dict[str, Callable[[Target, Mapping[str, Any], str], None]] = {
    "AWS::SQS::QueuePolicy": _apply_queue_policy,
    "AWS::SNS::Subscription": _apply_subscription,
    "AWS::S3::Bucket": _apply_bucket_settings,
}


def apply_moto_skipped_resources(
    target: Target,
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    stack: Mapping[str, Any],
) -> tuple[str, ...]:
    """Make the kept resources moto skipped; their logical ids, in order."""
    cloudformation = target.client("cloudformation")
    summaries = cloudformation.list_stack_resources(StackName=stack["StackId"])
    physical = {
        summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
        for summary in summaries["StackResourceSummaries"]
        if summary["LogicalResourceId"]
    }
    resources = template["Resources"]
    resolver = TemplateResolver(
        template=template,
        parameters=parameters,
        pseudo=_pseudo_parameters(stack),
        ref=lambda logical: _physical_id(physical, logical),
        get_att=lambda logical, attribute: _local_attribute(
            target,
            resources[logical]["Type"],
            _physical_id(physical, logical),
            attribute,
        ),
    )
    kept = resolver.kept()
    applied = []
    for resource_type, apply in MOTO_SKIPPED_TYPES.items():
        for logical, resource in kept.items():
            if resource["Type"] == resource_type:
                apply(
                    target,
                    resolver.resolve(resource.get("Properties", {})),
                    physical.get(logical, ""),
                )
                applied.append(logical)
    return tuple(applied)


def _pseudo_parameters(stack: Mapping[str, Any]) -> dict[str, str]:
    # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
    _, partition, _, region, account, _ = stack["StackId"].split(":", 5)
    return {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": stack["StackName"],
        "AWS::StackId": stack["StackId"],
        "AWS::URLSuffix": "amazonaws.com",
    }


def _physical_id(physical: Mapping[str, str], logical: str) -> str:
    if not physical.get(logical):
        raise DeployError(f"the stack has no resource {logical} to refer to")
    return physical[logical]


def _local_attribute(
    target: Target, resource_type: str, physical_id: str, attribute: str
) -> str:
    """``Fn::GetAtt`` for the resources moto's skipped types refer to."""
    if resource_type == "AWS::SQS::Queue" and attribute == "Arn":
        answer = target.client("sqs").get_queue_attributes(
            QueueUrl=physical_id, AttributeNames=["QueueArn"]
        )
        return answer["Attributes"]["QueueArn"]
    if resource_type == "AWS::SQS::Queue" and attribute == "QueueName":
        return physical_id.rstrip("/").rsplit("/", 1)[-1]
    if resource_type == "AWS::SNS::Topic" and attribute == "TopicArn":
        return physical_id
    if resource_type == "AWS::SNS::Topic" and attribute == "TopicName":
        return physical_id.rsplit(":", 1)[-1]
    if resource_type == "AWS::S3::Bucket" and attribute == "Arn":
        return f"arn:aws:s3:::{physical_id}"
    raise DeployError(f"cannot read {resource_type} attribute {attribute} locally")
