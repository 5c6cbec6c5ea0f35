"""Queues a status callback event for every message state change, from the Messages
table's stream (the events are delivered by app.py, from the callback queue)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import callbacks


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> None:
    records = event.get("Records", [])
    queued = callbacks.events_from_changes(records)
    logger.debug("callback events queued", extra={"records": len(records), "queued": queued})
