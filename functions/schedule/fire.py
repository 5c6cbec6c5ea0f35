"""EventBridge Scheduler's target: a scheduled mission's time has come."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.dispatch import fire_scheduled


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # The schedule's Input: {"tenant_id": ..., "mission_id": ...}
    outcome = fire_scheduled(event["tenant_id"], event["mission_id"], clock.now())
    return {"outcome": outcome}
