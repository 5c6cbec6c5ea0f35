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


def test_a_stack_that_is_not_there_is_named_in_a_refusal_not_a_traceback(deployed):
    # A mistyped name, or a stack in another region than the default one.
    with pytest.raises(SystemExit) as exited:
        cli.main(["--stack", "cloudsms-prd", "--region", "us-east-1", "tenant-list"])

    message = str(exited.value.code)
    assert message.startswith("cloudsms: stack cloudsms-prd in us-east-1:")
    assert "does not exist" in message
    assert "--region" in message


def test_a_stack_whose_function_cannot_be_read_is_named_in_a_refusal(deployed, monkeypatch):
    import botocore.exceptions

    def refused(self, operation, params):
        raise botocore.exceptions.NoCredentialsError()

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", refused)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--stack", "cloudsms-prod", "tenant-list"])

    assert str(exited.value.code).startswith("cloudsms: stack cloudsms-prod:")
    assert "Unable to locate credentials" in str(exited.value.code)
