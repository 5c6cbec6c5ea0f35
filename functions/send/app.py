"""The sending Web API: one-off messages, and reading bulk missions (creating one, which
reads its whole number list, is functions/missions: a function with more CPU)."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.adapters.idempotency import once
from cloudsms.api import Cursor, PageSize, answers, caller, make_resolver, raw_body
from cloudsms.domain.mission import (
    AbnormalPage,
    BlacklistedPage,
    Mission,
    MissionMessagePage,
    MissionPage,
    MissionStatus,
)
from cloudsms.domain.phone import Direction
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import cmi_api, missions, request_limit
from cloudsms.services.messages import Message, get_message
from cloudsms.services.pages import page_size
from cloudsms.services.sending import SendAnswer, SendRequest, send_sms
from cloudsms.services.tenants import get_tenant
from cloudsms.store.tenants import TenantModel

app = make_resolver()


def _once_per_key(
    scope: str, tenant_id: str, request: SendRequest, accept: Callable[[], dict]
) -> dict:
    """`accept()`, or the first answer to a request carrying the same Idempotency-Key.
    `accept` takes from the tenant's request limit: a retry answered with the first
    answer is neither refused by the limit nor counted again."""
    key = app.current_event.headers.get("Idempotency-Key")
    if not key:
        return accept()
    body = request.model_dump(mode="json")
    return once(scope, tenant_id, key, body, accept, app.lambda_context)


@app.post("/v1/sms", operation_id="send_sms", responses=answers(SendAnswer))
@tracer.capture_method
def send(request: SendRequest) -> Response[dict]:
    principal = caller(app)
    tenant = get_tenant(principal.tenant_id)

    def accept() -> dict:
        request_limit.take_request(tenant, clock.now())
        results = send_sms(tenant, request, clock.now())
        return {"messages": [asdict(r) for r in results]}

    answer = _once_per_key("send-sms", tenant.tenant_id, request, accept)
    queued = sum(1 for m in answer["messages"] if m["status"] == "queued")
    metrics.add_metric(name="MessagesAccepted", unit="Count", value=queued)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)


@app.post("/v1/cmi", operation_id="call_cmi_api", responses=answers(cmi_api.CmiAnswers))
@tracer.capture_method
def cmi() -> Response[dict]:
    """The CMI CloudSMS Web API (SMS_SEND_REQUEST and DR_QUERY): the key is in the body,
    so API Gateway runs no authorizer for this route (services/cmi_api.py)."""

    def send_once(tenant: TenantModel, request: SendRequest) -> list[dict]:
        def accept() -> dict:
            request_limit.take_request(tenant, clock.now())
            results = send_sms(tenant, request, clock.now())
            return {"results": cmi_api.results_view(results)}

        answer = _once_per_key("cmi-send", tenant.tenant_id, request, accept)
        queued = sum(1 for r in answer["results"] if r["status"] == "queued")
        metrics.add_metric(name="MessagesAccepted", unit="Count", value=queued)
        return answer["results"]  # type: ignore[no-any-return]

    answer = cmi_api.answer(raw_body(app), clock.now(), send_once)
    return Response(
        status_code=answer.status,
        content_type=content_types.APPLICATION_JSON,
        body=answer.body,
        headers=answer.headers,
    )


@app.get("/v1/sms/<uid>", operation_id="read_sms", responses=answers(Message))
@tracer.capture_method
def read(uid: str) -> dict:
    return get_message(caller(app).tenant_id, uid)


@app.get("/v1/missions", operation_id="list_missions", responses=answers(MissionPage))
@tracer.capture_method
def list_missions(
    name: Annotated[str | None, Query(description="Part of the mission name")] = None,
    direction: Annotated[Direction | None, Query()] = None,
    status: Annotated[MissionStatus | None, Query(description="Any case: Sent, sent")] = None,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    return missions.list_missions(
        caller(app).tenant_id,
        page_size(page_size_),
        cursor,
        name,
        direction.value if direction else None,
        status.value if status else None,
    )


@app.get("/v1/missions/<mission_id>", operation_id="read_mission", responses=answers(Mission))
@tracer.capture_method
def read_mission(mission_id: str) -> dict:
    return missions.read_mission(caller(app).tenant_id, mission_id)


@app.get(
    "/v1/missions/<mission_id>/messages",
    operation_id="list_mission_messages",
    responses=answers(MissionMessagePage),
)
@tracer.capture_method
def mission_messages(
    mission_id: str,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    return missions.list_mission_messages(
        caller(app).tenant_id, mission_id, page_size(page_size_), cursor
    )


@app.get(
    "/v1/missions/<mission_id>/abnormal",
    operation_id="list_abnormal_recipients",
    responses=answers(AbnormalPage),
)
@tracer.capture_method
def mission_abnormal(
    mission_id: str,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return missions.list_abnormal(caller(app).tenant_id, mission_id, page_size(page_size_), cursor)


@app.get(
    "/v1/missions/<mission_id>/blacklisted",
    operation_id="list_blacklisted_recipients",
    responses=answers(BlacklistedPage),
)
@tracer.capture_method
def mission_blacklisted(
    mission_id: str,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return missions.list_blacklisted(
        caller(app).tenant_id, mission_id, page_size(page_size_), cursor
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
