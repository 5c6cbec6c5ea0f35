"""Consumes the export queue: prepares each asked-for log export as a file in S3."""

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
from cloudsms.services import prepared_exports, redelivery

# A failed record is a partial-batch answer, not a function error: the wait it was
# given decides when it comes back.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def prepare_record(record: SQSRecord) -> None:
    request = json.loads(record.body)
    with redelivery.visibility_on_failure(record):
        ready = prepared_exports.attempt(
            request["tenant_id"], request["export_id"], redelivery.receive_count(record), clock.now
        )
    if ready:
        metrics.add_metric(name="LogExportsPrepared", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=prepare_record, processor=processor, context=context
    )
