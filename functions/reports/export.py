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

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

# The export queue's maxReceiveCount: after the last attempt the export is marked failed,
# so that its tenant stops waiting for it.
ATTEMPTS = 3


@tracer.capture_method
def prepare_record(record: SQSRecord) -> None:
    request = json.loads(record.body)
    tenant_id, export_id = request["tenant_id"], request["export_id"]
    try:
        prepared_exports.prepare(tenant_id, export_id, clock.now)
    except Exception:
        if redelivery.receive_count(record) < ATTEMPTS:
            logger.exception("export failed; SQS delivers it again", export_id=export_id)
            raise
        logger.exception("export failed on its last attempt", export_id=export_id)
        prepared_exports.fail(tenant_id, export_id, clock.now())
        return
    metrics.add_metric(name="LogExportsPrepared", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=prepare_record, processor=processor, context=context
    )
