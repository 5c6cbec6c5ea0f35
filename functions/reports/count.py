"""Adds message changes to the statistics counters, from the Messages table's stream."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import counters


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Lambda names the shard only in a tumbling-window event, which is why the event
    # source has one; the window's state is not used: each batch counts at once.
    shard_id = event.get("shardId")
    if not shard_id:
        raise ValueError("the stream event names no shard: give the event source a window")
    records = event.get("Records", [])
    counted = counters.count_changes(records, shard_id)
    logger.debug("changes counted", extra={"records": len(records), "counted": counted})
    return {"state": {}}
