"""Idempotent requests: a retried request with the same Idempotency-Key gets the first
answer back instead of being carried out again (Powertools idempotency on DynamoDB)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from cloudsms.adapters.aws import client
from cloudsms.errors import InProgress, KeyReused
from cloudsms.settings import get_settings

_persistence: DynamoDBPersistenceLayer | None = None


def _store() -> DynamoDBPersistenceLayer:
    global _persistence
    if _persistence is None:
        _persistence = DynamoDBPersistenceLayer(
            table_name=get_settings().idempotency_table, boto3_client=client("dynamodb")
        )
    return _persistence


def once(
    scope: str,
    tenant_id: str,
    key: str,
    body: Any,
    action: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Runs `action` once per (scope, tenant, key); later calls return its first answer.

    The same key with a different body is refused: it is a client bug, not a retry.
    """
    config = IdempotencyConfig(
        event_key_jmespath="[scope, tenant_id, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=get_settings().idempotency_expiry_seconds,
    )
    if lambda_context is not None:
        # Lets Powertools expire an in-progress record if the function times out.
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(), config=config)
    def run(request: dict[str, Any]) -> dict[str, Any]:
        return action()

    try:
        return run(request={"scope": scope, "tenant_id": tenant_id, "key": key, "body": body})  # type: ignore[no-any-return]
    except IdempotencyValidationError as error:
        raise KeyReused(
            "this Idempotency-Key was used before with a different request body"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise InProgress("a request with this Idempotency-Key is still being processed") from error
