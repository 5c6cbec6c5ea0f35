"""Takes delivery receipts from carrier gateways: GET (Kannel) or POST /dlr/{channel}, at
the function's own function URL."""

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.api import make_function_url_resolver
from cloudsms.errors import BadRequest
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import receipts

app = make_function_url_resolver()


def _receipt() -> tuple[dict[str, str], Any]:
    """The receipt's fields and body: the query plus any form fields, and a JSON document
    or raw text (an SMPP receipt) when one was posted.

    The query wins over a form field of the same name: our uid, tenant and secret come
    from the receipt URL we gave the gateway, never from what it adds.
    """
    event = app.current_event
    query = dict(event.query_string_parameters or {})
    if event.http_method != "POST" or not event.body:
        return query, None
    content_type = (event.headers.get("Content-Type") or "").lower()
    if "json" in content_type:
        try:
            return query, event.json_body
        except ValueError as error:
            raise BadRequest("the receipt is not valid JSON") from error
    if "x-www-form-urlencoded" in content_type or not content_type:
        form = dict(parse_qsl(event.decoded_body, keep_blank_values=True))
        return {**form, **query}, None
    return query, event.decoded_body


@app.route("/dlr/<channel>", method=["GET", "POST"])
@tracer.capture_method
def receive(channel: str) -> Response[str]:
    params, body = _receipt()
    outcome = receipts.record_receipt(channel, params, clock.now(), body)
    answer = receipts.acknowledgement(channel, outcome)
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
