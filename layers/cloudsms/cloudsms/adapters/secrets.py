"""Channel credentials in Secrets Manager: written by the operator, read by functions."""

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from cloudsms.adapters.aws import client

# Functions re-read a secret at most this often, so a rotated password is picked up.
SECRET_CACHE_SECONDS = 300


def put_secret(name: str, value: dict[str, Any]) -> None:
    sm = client("secretsmanager")
    body = json.dumps(value)
    try:
        sm.create_secret(Name=name, SecretString=body)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        sm.put_secret_value(SecretId=name, SecretString=body)


def get_secret(name: str) -> dict[str, Any]:
    provider = parameters.SecretsProvider(boto3_client=client("secretsmanager"))
    value = provider.get(name, transform="json", max_age=SECRET_CACHE_SECONDS)
    assert isinstance(value, dict)
    return value
