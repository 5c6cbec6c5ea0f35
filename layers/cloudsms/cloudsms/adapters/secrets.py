"""Channel credentials in Secrets Manager: written by the operator, read by functions."""

import json
from typing import Any

from botocore.exceptions import ClientError

from cloudsms.adapters.aws import client
from cloudsms.cache import ttl_cache

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


def read_secret(name: str) -> dict[str, Any]:
    """The secret as stored now: for changing it, where a cached copy would lose a write."""
    value = json.loads(client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])
    assert isinstance(value, dict)
    return value


# One cache per process, not per call: every message and every receipt reads its channel's
# secret, and Secrets Manager bills and throttles per call. `version` is the caller's
# count of changes to the secret: a new one is read at once, whatever is cached.
@ttl_cache(SECRET_CACHE_SECONDS)
def get_secret(name: str, version: int = 0) -> dict[str, Any]:
    return read_secret(name)


def delete_secret(name: str) -> None:
    """Deletes a secret that nothing reads any more; one already gone is fine."""
    try:
        client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
