"""The sending Web API: POST /v1/sms accepts messages, GET /v1/sms/{uid} reads one."""

from dataclasses import asdict
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms.adapters.idempotency import once
from cloudsms.api import caller, make_resolver
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.messages import get_message
from cloudsms.services.sending import SendRequest, send_sms
from cloudsms.services.tenants import get_tenant

app = make_resolver()


@app.post("/v1/sms")
@tracer.capture_method
def send(request: SendRequest) -> Response[dict]:
    principal = caller(app)
    tenant = get_tenant(principal.tenant_id)

    def accept() -> dict:
        results = send_sms(tenant, request, datetime.now(UTC))
        return {"messages": [asdict(r) for r in results]}

    key = app.current_event.headers.get("Idempotency-Key")
    if key:
        answer = once(
            "send-sms", tenant.tenant_id, key, request.model_dump(mode="json"), accept,
            app.lambda_context,
        )
    else:
        answer = accept()
    queued = sum(1 for m in answer["messages"] if m["status"] == "queued")
    metrics.add_metric(name="MessagesAccepted", unit="Count", value=queued)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)


@app.get("/v1/sms/<uid>")
@tracer.capture_method
def read(uid: str) -> dict:
    return get_message(caller(app).tenant_id, uid)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
