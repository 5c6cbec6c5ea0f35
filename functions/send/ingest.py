"""Number lists arriving in the upload bucket start missions."""

from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.uploads import ingest_object


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> None:
    for record in event.records:
        # S3 URL-encodes the key in its events (a space arrives as "+").
        key = unquote_plus(record.s3.get_object.key)
        ingest_object(record.s3.bucket.name, key, clock.now)
