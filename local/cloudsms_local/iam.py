"""A stand-in for IAM: every AWS request a function makes is checked against the
policies template.yaml gives that function, and refused as AWS would refuse it.

moto does not enforce IAM, so a function whose code outgrew its policies (a table it
reads that its role may not read) passed every test here and failed once deployed: the
authorizer, the send API and the mission dispatch all did. The local stack and the tests
install this check, so such a request fails here too, with AWS's error code.

Which function makes a request is read from the call stack: the handler file it runs
under (functions/<dir>/<module>.py, as the template's CodeUri and Handler name it).
Requests made outside any handler (the local stack's pollers, the tests' own set-up, the
operator's command) are not checked, as they are not a function's.

The policies are the function's `Policies` as SAM expands them (its own policy templates,
from the SAM translator), plus what SAM gives a function for its event sources (an SQS
queue's or a table stream's execution role). Conditions in statements are not
evaluated; the template has none on a function's policy, and expanding one fails loudly.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlparse

from cloudsms_local.template import ACCOUNT_ID, REGION, REPO_ROOT

Statement = dict[str, Any]
Permission = tuple[str, str]  # (action, resource ARN)

# What SAM attaches to a function for the event sources that read on its behalf: the
# managed execution role of each kind (their statements, as AWS publishes them).
EVENT_SOURCE_STATEMENTS: dict[str, list[Statement]] = {
    # Not sqs:ChangeMessageVisibility: a consumer that sets a record's wait before it
    # comes back needs a statement of its own for it.
    "SQS": [  # AWSLambdaSQSQueueExecutionRole
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": "*",
        }
    ],
    "DynamoDB": [  # AWSLambdaDynamoDBExecutionRole
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": "*",
        }
    ],
}


@functools.cache
def _policy_templates() -> Any:
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    return PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())


def statements(props: dict[str, Any]) -> list[Statement]:
    """A function's statements as SAM would put them in its role, intrinsics unresolved."""
    found: list[Statement] = []
    for policy in props.get("Policies", []):
        if not isinstance(policy, dict) or len(policy) != 1:
            raise ValueError(f"unsupported policy {policy!r}: a managed policy is not expanded")
        ((name, parameters),) = policy.items()
        if name == "Statement":
            found.extend(parameters if isinstance(parameters, list) else [parameters])
        else:
            found.extend(_policy_templates().convert(name, parameters)["Statement"])
    for event in props.get("Events", {}).values():
        found.extend(EVENT_SOURCE_STATEMENTS.get(event["Type"], []))
    for statement in found:
        unsupported = {"NotAction", "NotResource", "Condition"} & set(statement)
        if unsupported:
            raise ValueError(f"unsupported in a function's policy: {sorted(unsupported)}")
    return found


def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class Policy:
    """One function's statements, resolved, answering whether they allow a request."""

    def __init__(self, resolved: Iterable[Statement]):
        self._rules = [
            (
                statement["Effect"] == "Allow",
                [_pattern(a, ignore_case=True) for a in _listed(statement["Action"])],
                [_pattern(r, ignore_case=False) for r in _listed(statement["Resource"])],
            )
            for statement in resolved
        ]

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a policy lives as long as its stack
    def allows(self, action: str, resource: str) -> bool:
        allowed = False
        for allow, actions, resources in self._rules:
            if any(a.fullmatch(action) for a in actions) and any(
                r.fullmatch(resource) for r in resources
            ):
                if not allow:
                    return False  # an explicit deny wins
                allowed = True
        return allowed


# --- What a request needs --------------------------------------------------------------

_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}
_TRANSACT_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Get": "GetItem",
}


def _table_arn(table: str, index: str | None = None) -> str:
    arn = (
        table
        if table.startswith("arn:")
        else (f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}")
    )
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Permission]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", _table_arn(t)) for t in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(request["TableName"]))
            for item in params["TransactItems"]
            for kind, request in item.items()
        ]
    if "StreamArn" in params:
        return [(f"dynamodb:{operation}", params["StreamArn"])]
    if "TableName" in params:
        return [(f"dynamodb:{operation}", _table_arn(params["TableName"], params.get("IndexName")))]
    return [(f"dynamodb:{operation}", "*")]


def _sqs(operation: str, params: dict[str, Any]) -> list[Permission]:
    action = f"sqs:{_SQS_ACTIONS.get(operation, operation)}"
    if "QueueUrl" in params:
        name = urlparse(params["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]
    elif "QueueName" in params:
        name = params["QueueName"]
    else:
        return [(action, "*")]
    return [(action, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}")]


def _s3(operation: str, params: dict[str, Any]) -> list[Permission]:
    bucket = params.get("Bucket")
    if not bucket:
        return [(f"s3:{operation}", "*")]
    if operation == "CopyObject":
        source = params["CopySource"]
        source = (
            f"{source['Bucket']}/{source['Key']}"
            if isinstance(source, dict)
            else unquote(source).lstrip("/")
        )
        return [
            ("s3:GetObject", f"arn:aws:s3:::{source}"),
            ("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}"),
        ]
    action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
    if operation == "DeleteObjects":
        keys = [o["Key"] for o in params["Delete"]["Objects"]]
        return [(action, f"arn:aws:s3:::{bucket}/{key}") for key in keys]
    if "Key" in params:
        return [(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
    return [(action, f"arn:aws:s3:::{bucket}")]


def _secret_arn(secret: str) -> str:
    # A secret's ARN ends in six random characters after its name; policies allow for them.
    if secret.startswith("arn:"):
        return secret
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret}-AbCdEf"


def _secretsmanager(operation: str, params: dict[str, Any]) -> list[Permission]:
    secret = params.get("SecretId") or params.get("Name")
    return [(f"secretsmanager:{operation}", _secret_arn(secret) if secret else "*")]


def _scheduler(operation: str, params: dict[str, Any]) -> list[Permission]:
    action = f"scheduler:{operation}"
    if "Name" not in params:
        return [(action, "*")]
    if operation.endswith("ScheduleGroup"):
        arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule-group/{params['Name']}"
        return [(action, arn)]
    group = params.get("GroupName") or "default"
    schedule = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/{group}/{params['Name']}"
    needed = [(action, schedule)]
    role = params.get("Target", {}).get("RoleArn")
    if role:
        needed.append(("iam:PassRole", role))  # the schedule acts as that role
    return needed


def _sns(operation: str, params: dict[str, Any]) -> list[Permission]:
    topic = params.get("TopicArn")
    return [(f"sns:{operation}", topic or "*")]


_BY_SERVICE: dict[str, Callable[[str, dict[str, Any]], list[Permission]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "s3": _s3,
    "secretsmanager": _secretsmanager,
    "scheduler": _scheduler,
    "sns": _sns,
}


def permissions(service: str, operation: str, params: dict[str, Any]) -> list[Permission]:
    """The (action, resource) pairs IAM checks for one request."""
    per_service = _BY_SERVICE.get(service)
    if per_service is None:
        return [(f"{service}:{operation}", "*")]
    return per_service(operation, params)


# --- Checking requests -----------------------------------------------------------------

_state = threading.Lock()
_policies: dict[str, Policy] = {}
_handlers: dict[str, str] = {}  # handler file -> function


def handler_file(props: dict[str, Any]) -> str:
    module = props["Handler"].rsplit(".", 1)[0]
    return str((REPO_ROOT / props["CodeUri"] / f"{module}.py").resolve())


def enforce(functions: dict[str, dict[str, Any]], policies: dict[str, list[Statement]]) -> None:
    """Checks every request made under a function's handler from now on, against that
    function's resolved policies (`functions`: the template's function properties)."""
    with _state:
        _policies.clear()
        _policies.update({name: Policy(found) for name, found in policies.items()})
        _handlers.clear()
        _handlers.update({handler_file(props): name for name, props in functions.items()})
    _install()


def calling_function() -> str | None:
    """The function whose handler this request is made under, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        function = _handlers.get(frame.f_code.co_filename)
        if function:
            return function
        frame = frame.f_back  # type: ignore[assignment]
    return None


def refusal(function: str, operation: str, service: str, action: str, resource: str) -> Any:
    from botocore.exceptions import ClientError

    code = "AccessDenied" if service in ("s3", "sqs") else "AccessDeniedException"
    message = (
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{function}Role/{function} is not "
        f"authorized to perform: {action} on resource: {resource} because no "
        f"identity-based policy allows the {action} action"
    )
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        operation,
    )


@functools.cache
def _install() -> None:
    from botocore.client import BaseClient

    from cloudsms import cache

    # A lookup a function remembers is its own: one another function made, under other
    # policies, would spare it a request its policies may not allow.
    cache.remember_per(calling_function)

    original = BaseClient._make_api_call

    def checked(self: Any, operation: str, params: dict[str, Any]) -> Any:
        function = calling_function()
        policy = _policies.get(function) if function else None
        if policy is not None:
            service = self.meta.service_model.signing_name
            for action, resource in permissions(service, operation, params):
                if not policy.allows(action, resource):
                    raise refusal(str(function), operation, service, action, resource)
        return original(self, operation, params)

    BaseClient._make_api_call = checked  # type: ignore[method-assign]
