"""The local stand-in for IAM: SAM's policies expanded, and requests checked against them."""

import pytest

from cloudsms_local import iam

ACCOUNT = "arn:aws:dynamodb:us-east-1:123456789012"
TABLE = f"{ACCOUNT}:table/Messages"


def _policy(*policies: dict) -> iam.Policy:
    """A function's policy, its names already resolved (as the template's refs would be)."""
    return iam.Policy(_resolved(iam.statements({"Policies": list(policies)})))


def _resolved(value):
    """Resolves what SAM's policy templates leave: Fn::Sub with variables of its own."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text, variables = value["Fn::Sub"]
        pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1"}
        for name, got in {**pseudo, "AWS::AccountId": "123456789012", **variables}.items():
            text = text.replace("${" + name + "}", got)
        return text
    if isinstance(value, dict):
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    return value


def test_a_read_policy_allows_reading_the_table_and_its_indexes_and_nothing_else():
    policy = _policy({"DynamoDBReadPolicy": {"TableName": "Messages"}})

    assert policy.allows("dynamodb:GetItem", TABLE)
    assert policy.allows("dynamodb:Query", f"{TABLE}/index/by-mission")
    assert not policy.allows("dynamodb:PutItem", TABLE)
    assert not policy.allows("dynamodb:GetItem", f"{ACCOUNT}:table/Tenants")


def test_actions_match_without_regard_to_case_and_resources_with_it():
    policy = _policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/exports/*"}
            ]
        }
    )

    assert policy.allows("s3:getobject", "arn:aws:s3:::b/exports/x.csv")
    assert not policy.allows("s3:GetObject", "arn:aws:s3:::b/EXPORTS/x.csv")
    assert not policy.allows("s3:PutObject", "arn:aws:s3:::b/exports/x.csv")


def test_an_explicit_deny_wins_over_an_allow():
    policy = _policy(
        {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}]},
    )

    assert policy.allows("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")
    assert not policy.allows("sqs:DeleteQueue", "arn:aws:sqs:us-east-1:123456789012:q")


def test_an_sqs_event_source_gives_its_function_the_queue_execution_role():
    props = {"Policies": [], "Events": {"Queue": {"Type": "SQS", "Properties": {}}}}

    policy = iam.Policy(iam.statements(props))

    assert policy.allows("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:q")
    assert not policy.allows("sqs:ChangeMessageVisibility", "arn:aws:sqs:us-east-1:123456789012:q")
    assert not policy.allows("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")


@pytest.mark.parametrize(
    "policy",
    [
        "AWSLambdaBasicExecutionRole",
        {"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}}]},
    ],
    ids=["managed policy", "NotAction", "Condition"],
)
def test_a_policy_this_stand_in_cannot_judge_is_refused_loudly(policy):
    with pytest.raises(ValueError, match="unsupported"):
        iam.statements({"Policies": [policy]})


def test_a_batch_request_needs_the_action_of_each_of_its_parts():
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/cloudsms-bulk"

    assert iam.permissions("sqs", "SendMessageBatch", {"QueueUrl": queue}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:cloudsms-bulk")
    ]
    transaction = {
        "TransactItems": [
            {"Update": {"TableName": "Messages"}},
            {"ConditionCheck": {"TableName": "Tenants"}},
        ]
    }
    assert iam.permissions("dynamodb", "TransactWriteItems", transaction) == [
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", f"{ACCOUNT}:table/Tenants"),
    ]


def test_a_query_of_an_index_needs_the_index_and_reading_an_object_needs_get_object():
    assert iam.permissions("dynamodb", "Query", {"TableName": "Messages", "IndexName": "i"}) == [
        ("dynamodb:Query", f"{TABLE}/index/i")
    ]
    assert iam.permissions("s3", "HeadObject", {"Bucket": "b", "Key": "k/1.csv"}) == [
        ("s3:GetObject", "arn:aws:s3:::b/k/1.csv")
    ]


def test_a_schedule_that_acts_as_a_role_needs_leave_to_pass_that_role():
    params = {"Name": "m1", "GroupName": "g", "Target": {"RoleArn": "arn:aws:iam::1:role/r"}}

    assert iam.permissions("scheduler", "CreateSchedule", params) == [
        ("scheduler:CreateSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/g/m1"),
        ("iam:PassRole", "arn:aws:iam::1:role/r"),
    ]


def test_a_secret_named_without_its_arn_is_checked_as_its_arn_with_a_suffix():
    [(action, resource)] = iam.permissions(
        "secretsmanager", "GetSecretValue", {"SecretId": "cloudsms/dev/channels/SIM"}
    )

    assert action == "secretsmanager:GetSecretValue"
    assert resource.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:")
    policy = _policy(
        {
            "AWSSecretsManagerGetSecretValuePolicy": {
                "SecretArn": resource.rsplit(":", 1)[0] + ":cloudsms/dev/channels/*"
            }
        }
    )
    assert policy.allows(action, resource)
