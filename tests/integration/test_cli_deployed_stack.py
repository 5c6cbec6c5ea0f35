"""The console command against a deployed stack: it finds every resource the functions
use from one function's environment, so no command writes to a table by its default name."""

import json
import os

import boto3
import pytest
from moto import mock_aws

from cloudsms import cli

STACK_TEMPLATE = {
    "Resources": {
        cli.CONFIGURED_FUNCTION: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "cloudsms-prod-admin",
                "Runtime": "python3.12",
                "Handler": "app.lambda_handler",
                "Role": "arn:aws:iam::123456789012:role/cloudsms-admin",
                "Code": {"ZipFile": "def lambda_handler(event, context):\n    return {}\n"},
                "Environment": {
                    "Variables": {
                        "TENANTS_TABLE": "cloudsms-prod-TenantsTable-1A2B",
                        "ACCOUNTS_TABLE": "cloudsms-prod-AccountsTable-3C4D",
                        "CHANNEL_SECRET_PREFIX": "cloudsms/prod/channels/",
                    }
                },
            },
        }
    }
}


@pytest.fixture
def deployed(monkeypatch):
    for name in ("TENANTS_TABLE", "ACCOUNTS_TABLE", "CHANNEL_SECRET_PREFIX", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        boto3.client("iam").create_role(
            RoleName="cloudsms-admin", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )
        boto3.client("cloudformation").create_stack(
            StackName="cloudsms-prod", TemplateBody=json.dumps(STACK_TEMPLATE)
        )
        yield
    for name in ("TENANTS_TABLE", "ACCOUNTS_TABLE", "CHANNEL_SECRET_PREFIX", "AWS_REGION"):
        os.environ.pop(name, None)


def test_a_deployed_stack_is_found_from_its_functions_environment(deployed):
    cli._target_stack("cloudsms-prod", "us-east-1")

    # Accounts too, which a list of tables kept in the command had left out.
    assert os.environ["ACCOUNTS_TABLE"] == "cloudsms-prod-AccountsTable-3C4D"
    assert os.environ["TENANTS_TABLE"] == "cloudsms-prod-TenantsTable-1A2B"
    assert os.environ["CHANNEL_SECRET_PREFIX"] == "cloudsms/prod/channels/"
    assert os.environ["AWS_REGION"] == "us-east-1"
