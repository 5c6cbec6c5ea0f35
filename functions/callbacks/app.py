"""Consumes the callback queue: POSTs each message state change to its tenant, signed."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import callbacks, redelivery

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def deliver_record(record: SQSRecord, lambda_context: LambdaContext) -> None:
    with redelivery.visibility_on_failure(record):
        callbacks.deliver(
            record.body,
            redelivery.receive_count(record),
            # Lambda stops the invocation at its timeout: no POST is begun past it.
            time_left=clock.time_left(lambda_context),
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=deliver_record, processor=processor, context=context
    )
