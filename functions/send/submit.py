"""Consumes the submit queues and hands each message to its carrier gateway."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import redelivery
from cloudsms.services.submission import submit_queue_message

# A batch whose every record failed is still a partial-batch answer, not a function
# error: each record's own wait (set on failure) then decides when it comes back.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def submit_record(record: SQSRecord, lambda_context: LambdaContext) -> None:
    # The batch processor passes the context to a handler that names it so.
    with redelivery.visibility_on_failure(record):
        submit_queue_message(
            record.body,
            redelivery.receive_count(record),
            clock.now,
            time_left=clock.time_left(lambda_context),
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=submit_record, processor=processor, context=context
    )
