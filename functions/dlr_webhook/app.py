"""Takes delivery receipts from carrier gateways: GET (Kannel) or POST /dlr/{channel}, and
recipients' replies: GET (Kannel) or POST (Jasmin) /mo/{channel}, at the function's own
function URL.

Two routes, so a plain handler reads the event with Powertools' data class rather than a
resolver: it is lighter on the path every receipt takes, and it keeps no request on
state shared with other handlers, so the local stack can run receipts beside the API
functions (Powertools' resolvers keep the current request on a class they all share).
"""

import base64
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
from cloudsms.services import receipts, replies
from cloudsms.validation import loads_json

ROUTE = re.compile(r"/dlr/([^/]+)")
REPLY_ROUTE = re.compile(r"/mo/([^/]+)")


def _receipt(event: LambdaFunctionUrlEvent) -> tuple[dict[str, str], Any]:
    """The receipt's fields and body: the query plus any form fields, and a JSON document
    or raw text (an SMPP receipt) when one was posted.

    The query wins over a form field of the same name: our uid, tenant and secret come
    from the receipt URL we gave the gateway, never from what it adds.
    """
    query = _query(event)
    if event.http_method != "POST" or not event.body:
        return query, None
    content_type = (event.headers.get("content-type") or "").lower()
    if "json" in content_type:
        try:
            return query, loads_json(event.decoded_body)
        except ValueError as error:
            raise BadRequest("the receipt is not valid JSON") from error
    if "x-www-form-urlencoded" in content_type or not content_type:
        form = dict(parse_qsl(event.decoded_body, keep_blank_values=True))
        return {**form, **query}, None
    return query, event.decoded_body


def _query(event: LambdaFunctionUrlEvent) -> dict[str, str]:
    """The query's fields, read from the query string as the gateway sent it: Kannel writes
    a space in a receipt's text (%A) as "+", and whether AWS's decoded parameters turn
    it back into a space is not documented; parsing the raw string does, either way."""
    if event.raw_query_string is None:
        return dict(event.query_string_parameters or {})
    return dict(parse_qsl(event.raw_query_string, keep_blank_values=True))


def _reply_fields(event: LambdaFunctionUrlEvent) -> dict[str, bytes]:
    """A reply's query and form fields as bytes (the query wins, as for receipts): a
    UCS-2 text arrives percent-encoded in bytes that are not UTF-8."""
    form = b""
    if event.http_method == "POST" and event.body:
        form = base64.b64decode(event.body) if event.is_base64_encoded else event.body.encode()
    fields: dict[str, bytes] = {}
    for encoded in (form.decode("latin-1"), event.raw_query_string or ""):
        # Latin-1 maps each byte to one character and back, whatever the bytes are.
        for name, value in parse_qsl(encoded, keep_blank_values=True, encoding="latin-1"):
            fields[name] = value.encode("latin-1")
    return fields


def _answer(status: int, content_type: str, body: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body}


def _refused(event: LambdaFunctionUrlEvent, error: CloudSmsError) -> dict[str, Any]:
    """The answer to a receipt or reply refused: a wrong secret, or one the channel cannot
    read. A carrier whose every receipt is refused (an old receipt URL, a JSON mapping that
    does not match its receipts) gets its 4xx and gives up; nothing else would tell the
    operator before the receipt sweep, days later, calls each message UNKNOWN."""
    if not isinstance(error, NotFound):
        # The path names the route; the secret is in the query, never logged.
        logger.warning(
            "receipt or reply refused",
            extra={"path": event.path, "status": error.status, "reason": error.message},
        )
        metrics.add_metric(name="ReceiptsRefused", unit="Count", value=1)
    return _error(error)


def _error(error: CloudSmsError) -> dict[str, Any]:
    """The error shape every CloudSMS API answers with."""
    document = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return _answer(error.status, "application/json", json.dumps(document))


@tracer.capture_method
def receive(event: LambdaFunctionUrlEvent) -> dict[str, Any]:
    if event.http_method not in ("GET", "POST"):
        raise NotFound("no such resource")
    reply_route = REPLY_ROUTE.fullmatch(event.path)
    if reply_route is not None:
        channel = reply_route.group(1)
        outcome = replies.record_reply(channel, _reply_fields(event), clock.now())
        return _answer(200, "text/plain", receipts.acknowledgement(channel, outcome))
    route = ROUTE.fullmatch(event.path)
    if route is None:
        raise NotFound("no such resource")
    channel = route.group(1)
    params, body = _receipt(event)
    outcome = receipts.record_receipt(channel, params, clock.now(), body)
    return _answer(200, "text/plain", receipts.acknowledgement(channel, outcome))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = LambdaFunctionUrlEvent(event)
    try:
        return receive(request)
    except CloudSmsError as error:
        return _refused(request, error)
