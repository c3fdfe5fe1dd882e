"""The gateway on AWS (``deploy/shared.yaml``): API Gateway's HTTP API, read.

moto stores API Gateway v2 definitions but serves no traffic, and its
CloudFormation skips them: so the template is read, not deployed. cfn-lint
checks it (``tests/test_deploy.py``); here the routes are held to the local
gateway's table (``stack.gateway_routes``), and the authorizer's inline code
is run against tokens made by PyJWT, the library the services verify with.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from types import ModuleType

import jwt as pyjwt
import pytest

from stack.cloudformation_templates import (
    SHARED_TEMPLATE,
    TemplateResolver,
    load_template,
)
from stack.gateway_routes import platform_routes
from stack.process_table import DEFAULT_PORTS, platform_processes

APPROACHES = ["db_per_service", "direct_publish", "event_sourcing", "cqrs_es"]
KEY = "k" * 48


def resolver(approach: str, target: str = "aws") -> TemplateResolver:
    return TemplateResolver(
        template=load_template(SHARED_TEMPLATE),
        parameters={
            "Target": target,
            "Approach": approach,
            "VpcId": "vpc-1",
            "PublicSubnetIds": "subnet-1,subnet-2",
        },
        pseudo={
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "111122223333",
            "AWS::Partition": "aws",
        },
        ref=lambda logical: f"<{logical}>",
        get_att=lambda logical, attribute: f"<{logical}.{attribute}>",
    )


def of_type(kept: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in kept.items() if r["Type"] == kind}


@pytest.mark.parametrize("approach", APPROACHES)
def test_each_local_route_is_an_api_route_to_the_same_service_path(approach):
    """ANY /<prefix> and ANY /<prefix>/{proxy+} for each route of the local
    gateway, to the same service path on the load balancer's port of the
    process the approach runs; a JWT is checked exactly where it is locally."""
    template = resolver(approach)
    kept = template.kept()
    integrations = {
        name: template.resolve(r["Properties"])
        for name, r in of_type(kept, "AWS::ApiGatewayV2::Integration").items()
    }
    routes = {
        properties["RouteKey"]: properties
        for properties in (
            template.resolve(r["Properties"])
            for r in of_type(kept, "AWS::ApiGatewayV2::Route").values()
        )
    }
    table = [p.name for p in platform_processes(approach) if p.serves_http]
    expected_keys = set()
    for route in platform_routes(table):
        port = DEFAULT_PORTS[route.process]
        base = route.prefix.rstrip("/")
        for key, path in (
            (f"ANY {base}", route.service_prefix),
            (f"ANY {base}/{{proxy+}}", route.service_prefix + "{proxy}"),
        ):
            expected_keys.add(key)
            found = routes[key]
            integration = integrations[
                found["Target"].removeprefix("integrations/<")[:-1]
            ]
            assert integration["IntegrationType"] == "HTTP_PROXY", key
            assert integration["IntegrationUri"] == (
                f"http://<LoadBalancer.DNSName>:{port}{path}"
            ), key
            if route.open:
                assert found["AuthorizationType"] == "NONE", key
            else:
                assert found["AuthorizationType"] == "CUSTOM", key
                assert found["AuthorizerId"] == "<GatewayAuthorizer>", key
    assert set(routes) == expected_keys


def test_the_stage_throttles_and_logs_each_request_as_json():
    template = resolver("cqrs_es")
    kept = template.kept()
    (stage,) = of_type(kept, "AWS::ApiGatewayV2::Stage").values()
    properties = template.resolve(stage["Properties"])
    (api,) = of_type(kept, "AWS::ApiGatewayV2::Api").values()

    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert properties["StageName"] == "$default"
    assert properties["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": "100",
        "ThrottlingBurstLimit": "200",
    }
    line = properties["AccessLogSettings"]["Format"]
    fields = json.loads(line.replace("$context.", "context."))
    assert {
        "time",
        "method",
        "path",
        "status",
        "duration_ms",
        "request_id",
        "client",
        "subject",
    } <= set(fields)
    (authorizer,) = of_type(kept, "AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerType"] == "REQUEST"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0


def test_the_local_target_makes_no_api():
    """moto would skip it, and the load balancer it leads to is aws only."""
    kept = resolver("cqrs_es", target="local").kept()
    assert not [r for r in kept.values() if "ApiGateway" in r["Type"]]
    assert "GatewayAuthorizerFunction" not in kept


# The authorizer's code, as the template deploys it


@pytest.fixture(scope="module")
def authorizer(monkeypatch_module) -> ModuleType:
    function = load_template(SHARED_TEMPLATE)["Resources"]["GatewayAuthorizerFunction"]
    code = function["Properties"]["Code"]["ZipFile"]
    monkeypatch_module.setenv("JWT_SIGNING_KEY", KEY)
    module = ModuleType("index")
    exec(compile(code, "index.py", "exec"), module.__dict__)  # noqa: S102
    return module


def token(key: str = KEY, **claims) -> str:
    now = int(time.time())
    payload = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": "7",
        **claims,
    }
    return pyjwt.encode(payload, key, algorithm="HS256")


def unsigned() -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()

    claims = {"token_type": "access", "exp": int(time.time()) + 300, "user_id": "7"}
    return f"{part({'alg': 'none'}).rstrip('=')}.{part(claims).rstrip('=')}."


def asked(authorizer: ModuleType, authorization: str | None) -> dict:
    headers = {} if authorization is None else {"authorization": authorization}
    return authorizer.handler({"version": "2.0", "headers": headers}, None)


def test_the_authorizer_lets_a_valid_access_token_through(authorizer):
    answer = asked(authorizer, f"Bearer {token()}")

    assert answer == {"isAuthorized": True, "context": {"subject": "7"}}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Token abc",
        f"Bearer {token(key='another-key-' + 'x' * 40)}",
        f"Bearer {unsigned()}",
        f"Bearer {token(exp=int(time.time()) - 5)}",
        f"Bearer {token(token_type='refresh')}",
        f"Bearer {token(user_id='')}",
        "Bearer not.a.jwt",
        "Bearer",
    ],
    ids=[
        "none",
        "api token",
        "bad signature",
        "alg none",
        "expired",
        "refresh token",
        "no user",
        "garbage",
        "empty",
    ],
)
def test_the_authorizer_refuses_what_the_local_gateway_refuses(
    authorizer, authorization
):
    assert asked(authorizer, authorization) == {"isAuthorized": False}
