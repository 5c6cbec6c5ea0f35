"""Hourly: tells the operator of orders that reached a threshold, reconciles unmatched
receipts, gives up on messages without a final receipt after the receipt timeout (they
become UNKNOWN, "No Delivery Notification"), and fails missions whose number list never
arrived."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.order_notices import notice_orders
from cloudsms.services.receipt_sweep import sweep
from cloudsms.services.upload_deadline import fail_missions_without_list


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    now = clock.now()
    # First, while the run has its time (a few reads an order); its failure fails the run
    # only once the receipts and missions are seen to.
    noticed = notice_orders(now)
    done = sweep(now, clock.time_left(context))
    missions = fail_missions_without_list(now)
    if noticed.failure is not None:
        raise noticed.failure
    return {**done, "missions_without_list": missions, "order_notices": noticed.sent}
