"""Consumes the submit queues and hands each message to its carrier gateway."""

import json

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.submission import submit_queue_message

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def submit_record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    submit_queue_message(body, clock.now)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=submit_record, processor=processor, context=context
    )
