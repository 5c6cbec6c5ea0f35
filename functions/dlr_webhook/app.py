"""Takes delivery receipts from carrier gateways: GET (Kannel) or POST /dlr/{channel}."""

from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.api import make_resolver
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.receipts import record_receipt

app = make_resolver()


def _params() -> dict[str, str]:
    """The receipt's fields: the query, plus a form or JSON body when posted."""
    event = app.current_event
    params = dict(event.query_string_parameters or {})
    if event.http_method == "POST" and event.body:
        content_type = (event.headers.get("Content-Type") or "").lower()
        if "json" in content_type:
            params.update({k: str(v) for k, v in (event.json_body or {}).items()})
        else:
            params.update(dict(parse_qsl(event.decoded_body, keep_blank_values=True)))
    return params


@app.route("/dlr/<channel>", method=["GET", "POST"])
@tracer.capture_method
def receive(channel: str) -> Response[str]:
    outcome = record_receipt(channel, _params(), clock.now())
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=outcome)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
