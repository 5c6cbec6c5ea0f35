"""Reads template.yaml and creates its resources in the AWS emulator.

The template is the single description of every table, queue and bucket; the tests and
the local stack build them from it, so the code can't drift from what is deployed.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !Sub …) into long form."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as data, a copy of its own for each caller, as callers may change it.
    Parsing it takes a quarter of a second, and the tests build every resource from it
    for each test, so it is parsed once a process while the file stays as it is."""
    return copy.deepcopy(_parse_template(path, path.stat().st_mtime_ns))


@functools.cache
def _parse_template(path: Path, modified_ns: int) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - our own loader


def function_url_path(function: str) -> str:
    """Where the local server serves a function's function URL. In AWS each function URL
    is a host of its own; here one server stands in for all of them, a path for each."""
    return f"/lambda-url/{function}"


@dataclass
class ApiRoute:
    api: str  # logical id of the RestApi
    method: str
    path: str  # as in the template, e.g. /v1/sms/{uid}
    function: str  # logical id
    authorized: bool


@dataclass
class GatewayResponse:
    """What the API answers for a request it refuses itself, before any function runs
    (one of its GatewayResponses). No status: the refusal's own."""

    status: int | None
    headers: dict[str, str]
    body: str  # the application/json template


@dataclass
class QueueSource:
    queue: str  # logical id
    function: str
    batch_size: int


@dataclass
class BucketSource:
    bucket: str  # logical id
    function: str
    events: list[str]
    prefix: str


@dataclass
class StreamSource:
    """A function the template feeds with a table's stream."""

    table: str  # logical id
    function: str
    batch_size: int
    batching_window_seconds: float


@dataclass
class RateSource:
    """A function the template runs on a `rate(...)` schedule."""

    function: str
    seconds: int


_RATE_UNITS = {
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}


def rate_seconds(expression: str) -> int | None:
    found = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    if not found or found.group(2) not in _RATE_UNITS:
        return None
    return int(found.group(1)) * _RATE_UNITS[found.group(2)]


@dataclass
class LocalResources:
    """Physical names of what was created, and how functions are wired to events."""

    physical: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    routes: list[ApiRoute] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    bucket_sources: list[BucketSource] = field(default_factory=list)
    rate_sources: list[RateSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    authorizers: dict[str, str] = field(default_factory=dict)  # api -> function
    # The REST API's gateway responses, by response type (the template has one API).
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    # Functions with a FunctionUrlConfig, by the local path their URL is served under.
    function_urls: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    # The template's Globals for functions: what a function does not set itself.
    function_globals: dict[str, Any] = field(default_factory=dict)
    # Each function's IAM statements, resolved (see iam.py).
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def function_setting(self, function: str, name: str, default: Any = None) -> Any:
        """A property of the function in the template, else of the template's Globals."""
        return self.functions[function].get(name, self.function_globals.get(name, default))

    def handler(self, function: str) -> tuple[str, str]:
        """(module, attribute) of a function's handler, e.g. ("functions.send.app", ...)."""
        props = self.functions[function]
        package = props["CodeUri"].strip("/").replace("/", ".")
        module, attribute = props["Handler"].rsplit(".", 1)
        return f"{package}.{module}", attribute


class Resolver:
    """Resolves the intrinsic functions the template uses, with local values."""

    def __init__(self, parameters: dict[str, str], resources: LocalResources):
        self.parameters = parameters
        self.resources = resources
        self.pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::StackName": "cloudsms-local",
        }
        self.api_urls: dict[str, str] = {}

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.resources.physical[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.resources.attributes[(arg[0], arg[1])]
            if key == "Fn::Sub" and isinstance(arg, list):
                # The long form, with variables of its own (SAM's policy templates use it).
                text, variables = arg
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::Sub":
                return self._sub(arg)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _sub(self, text: str, variables: dict[str, str] | None = None) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if variables and name in variables:
                return variables[name]
            if name in self.api_urls:
                # ${Api}.execute-api… is rewritten wholesale by the caller; see sub_url.
                return name
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.resources.attributes[(logical, attribute)]
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def sub_url(self, value: Any) -> Any:
        """An API's execute-api URL becomes the local API's URL."""
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]
            for api, url in self.api_urls.items():
                pattern = "https://${" + api + "}.execute-api.${AWS::Region}.amazonaws.com/${Stage}"
                if text == pattern:
                    return url
        return self.resolve(value)


def gateway_responses(api: dict[str, Any], resolver: Resolver) -> dict[str, GatewayResponse]:
    """An API's GatewayResponses, with their header values unquoted (the template quotes
    them, as static values of API Gateway's are)."""
    responses = {}
    for kind, response in resolver.resolve(api["Properties"].get("GatewayResponses", {})).items():
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        responses[kind] = GatewayResponse(
            status=int(response["StatusCode"]) if "StatusCode" in response else None,
            headers={name: value.strip("'") for name, value in headers.items()},
            body=response["ResponseTemplates"]["application/json"],
        )
    return responses


def create_table(client: Any, name: str, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        view = props["StreamSpecification"]["StreamViewType"]
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    table = client.create_table(**args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return dict(table)


def create_resources(
    session: boto3.Session,
    endpoint_url: str | None = None,
    api_urls: dict[str, str] | None = None,
    function_url_base: str = "http://lambda-url.test",
    parameters: dict[str, str] | None = None,
    prefix: str = "cloudsms-local",
) -> LocalResources:
    """Creates every table, queue, bucket, topic and schedule group of the template.

    `api_urls` maps an Api's logical id to where the local API Gateway serves it, so that
    environment variables naming an API's URL point at the local one; a function URL is
    served under `function_url_base` (see `function_url_path`).
    """
    template = load_template()
    defaults = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    resources = LocalResources(function_globals=template["Globals"]["Function"])
    resolver = Resolver({**defaults, **(parameters or {})}, resources)
    resolver.api_urls = dict(api_urls or {})
    kwargs = {"endpoint_url": endpoint_url, "region_name": REGION}
    dynamodb = session.client("dynamodb", **kwargs)
    sqs = session.client("sqs", **kwargs)
    s3 = session.client("s3", **kwargs)
    scheduler = session.client("scheduler", **kwargs)
    sns = session.client("sns", **kwargs)

    items = template["Resources"]
    # Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    ordered = sorted(items.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for logical, resource in ordered:
        kind = resource["Type"]
        props = resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            name = f"{prefix}-{logical}"
            table = create_table(dynamodb, name, props)
            resources.physical[logical] = name
            resources.attributes[(logical, "Arn")] = (
                f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
            )
            if "LatestStreamArn" in table:
                resources.attributes[(logical, "StreamArn")] = table["LatestStreamArn"]
        elif kind == "AWS::SQS::Queue":
            name = f"{prefix}-{logical}"
            attrs = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
            if "RedrivePolicy" in props:
                attrs["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
            url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
            resources.physical[logical] = url
            resources.attributes[(logical, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
            resources.attributes[(logical, "QueueName")] = name
        elif kind == "AWS::S3::Bucket":
            name = resolver.resolve(props.get("BucketName", f"{prefix}-{logical}".lower()))
            s3.create_bucket(Bucket=name)
            resources.physical[logical] = name
            resources.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        elif kind == "AWS::SNS::Topic":
            # A topic's Ref is its ARN. Its subscriptions (an e-mail address) are not
            # made: nothing is e-mailed from this machine; a test subscribes a queue.
            name = f"{prefix}-{logical}"
            arn = sns.create_topic(Name=name)["TopicArn"]
            resources.physical[logical] = arn
            resources.attributes[(logical, "TopicArn")] = arn
            resources.attributes[(logical, "TopicName")] = name
        elif kind == "AWS::Scheduler::ScheduleGroup":
            name = resolver.resolve(props["Name"])
            scheduler.create_schedule_group(Name=name)
            resources.physical[logical] = name
        elif kind == "AWS::Serverless::Api":
            resources.physical[logical] = logical
        elif kind == "AWS::Serverless::Function":
            resources.functions[logical] = props
            name = resolver.resolve(props.get("FunctionName", f"{prefix}-{logical}"))
            resources.attributes[(logical, "Arn")] = (
                f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            )
            if "FunctionUrlConfig" in props:
                path = function_url_path(logical)
                resources.function_urls[path] = logical
                # SAM names the URL resource "<function>Url"; its URL ends with a slash.
                resources.attributes[(f"{logical}Url", "FunctionUrl")] = (
                    f"{function_url_base}{path}/"
                )
        elif kind == "AWS::IAM::Role":
            resources.attributes[(logical, "Arn")] = (
                f"arn:aws:iam::{ACCOUNT_ID}:role/{prefix}-{logical}"
            )

    for logical, resource in items.items():
        if resource["Type"] == "AWS::Serverless::Api":
            resources.gateway_responses = gateway_responses(resource, resolver)
            auth = resource["Properties"].get("Auth", {})
            default = auth.get("DefaultAuthorizer")
            if default:
                arn = auth["Authorizers"][default]["FunctionArn"]
                resources.authorizers[logical] = arn["Fn::GetAtt"][0]

    for logical, props in resources.functions.items():
        for event in props.get("Events", {}).values():
            ev = event["Properties"]
            if event["Type"] == "Api":
                api = ev["RestApiId"]["Ref"]
                resources.routes.append(
                    ApiRoute(
                        api,
                        ev["Method"].upper(),
                        ev["Path"],
                        logical,
                        # SAM's "Auth: {Authorizer: NONE}" opens one route of an API
                        # that has a default authorizer (the log-in page's).
                        authorized=api in resources.authorizers
                        and ev.get("Auth", {}).get("Authorizer") != "NONE",
                    )
                )
            elif event["Type"] == "S3":
                rules = ev.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                prefix_rule = next((r["Value"] for r in rules if r["Name"] == "prefix"), "")
                events = ev["Events"] if isinstance(ev["Events"], list) else [ev["Events"]]
                resources.bucket_sources.append(
                    BucketSource(ev["Bucket"]["Ref"], logical, events, prefix_rule)
                )
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                seconds = rate_seconds(ev["ScheduleExpression"])
                if seconds:
                    resources.rate_sources.append(RateSource(logical, seconds))
            elif event["Type"] == "DynamoDB":
                resources.stream_sources.append(
                    StreamSource(
                        ev["Stream"]["Fn::GetAtt"][0],
                        logical,
                        int(ev.get("BatchSize", 100)),
                        float(ev.get("MaximumBatchingWindowInSeconds", 0)),
                    )
                )
            elif event["Type"] == "SQS":
                queue = ev["Queue"]["Fn::GetAtt"][0]
                resources.queue_sources.append(
                    QueueSource(queue, logical, int(ev.get("BatchSize", 10)))
                )

    # Every function runs in one process locally, so one environment serves them all.
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {k: str(resolver.sub_url(v)) for k, v in globals_env.items()}
    for props in resources.functions.values():
        extra = props.get("Environment", {}).get("Variables", {})
        env.update({k: str(resolver.sub_url(v)) for k, v in extra.items()})
    resources.environment = env
    from cloudsms_local import iam  # here: it imports this module's names

    resources.policies = {
        name: resolver.resolve(iam.statements(props)) for name, props in resources.functions.items()
    }
    return resources
