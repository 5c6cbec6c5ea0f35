"""Takes delivery receipts from carrier gateways: GET (Kannel) or POST /dlr/{channel}, at
the function's own function URL.

One route, so a plain handler reads the event with Powertools' data class rather than a
resolver: it is lighter on the path every receipt takes, and it keeps no request on
state shared with other handlers, so the local stack can run receipts beside the API
functions (Powertools' resolvers keep the current request on a class they all share).
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.errors import BadRequest, CloudSmsError, NotFound
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import receipts

ROUTE = re.compile(r"/dlr/([^/]+)")


def _receipt(event: LambdaFunctionUrlEvent) -> tuple[dict[str, str], Any]:
    """The receipt's fields and body: the query plus any form fields, and a JSON document
    or raw text (an SMPP receipt) when one was posted.

    The query wins over a form field of the same name: our uid, tenant and secret come
    from the receipt URL we gave the gateway, never from what it adds.
    """
    query = dict(event.query_string_parameters or {})
    if event.http_method != "POST" or not event.body:
        return query, None
    content_type = (event.headers.get("content-type") or "").lower()
    if "json" in content_type:
        try:
            return query, json.loads(event.decoded_body)
        except ValueError as error:
            raise BadRequest("the receipt is not valid JSON") from error
    if "x-www-form-urlencoded" in content_type or not content_type:
        form = dict(parse_qsl(event.decoded_body, keep_blank_values=True))
        return {**form, **query}, None
    return query, event.decoded_body


def _answer(status: int, content_type: str, body: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body}


def _error(error: CloudSmsError) -> dict[str, Any]:
    """The error shape every CloudSMS API answers with."""
    document = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return _answer(error.status, "application/json", json.dumps(document))


@tracer.capture_method
def receive(event: LambdaFunctionUrlEvent) -> dict[str, Any]:
    route = ROUTE.fullmatch(event.path)
    if route is None or event.http_method not in ("GET", "POST"):
        raise NotFound("no such resource")
    channel = route.group(1)
    params, body = _receipt(event)
    outcome = receipts.record_receipt(channel, params, clock.now(), body)
    return _answer(200, "text/plain", receipts.acknowledgement(channel, outcome))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        return receive(LambdaFunctionUrlEvent(event))
    except CloudSmsError as error:
        return _error(error)
