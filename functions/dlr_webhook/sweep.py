"""Hourly: reconciles unmatched receipts, and gives up on messages without a final
receipt after the receipt timeout (they become UNKNOWN, "No Delivery Notification")."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.receipt_sweep import sweep


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sweep(clock.now(), lambda: context.get_remaining_time_in_millis() / 1000)
