"""The sending Web API: one-off messages and bulk missions."""

import hashlib
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.adapters.idempotency import once
from cloudsms.api import Cursor, PageSize, answers, caller, json_body, make_resolver, parse_form
from cloudsms.domain.mission import (
    AbnormalPage,
    BlacklistedPage,
    CreatedMission,
    Mission,
    MissionFields,
    MissionMessagePage,
    MissionPage,
    MissionPreview,
    MissionStatus,
)
from cloudsms.domain.phone import Direction
from cloudsms.errors import BadRequest
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import missions
from cloudsms.services.messages import Message, get_message
from cloudsms.services.pages import page_size
from cloudsms.services.sending import SendAnswer, SendRequest, send_sms
from cloudsms.services.tenants import get_tenant
from cloudsms.validation import validated

app = make_resolver()


@app.post("/v1/sms", responses=answers(SendAnswer))
@tracer.capture_method
def send(request: SendRequest) -> Response[dict]:
    principal = caller(app)
    tenant = get_tenant(principal.tenant_id)

    def accept() -> dict:
        results = send_sms(tenant, request, clock.now())
        return {"messages": [asdict(r) for r in results]}

    key = app.current_event.headers.get("Idempotency-Key")
    if key:
        answer = once(
            "send-sms",
            tenant.tenant_id,
            key,
            request.model_dump(mode="json"),
            accept,
            app.lambda_context,
        )
    else:
        answer = accept()
    queued = sum(1 for m in answer["messages"] if m["status"] == "queued")
    metrics.add_metric(name="MessagesAccepted", unit="Count", value=queued)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)


@app.get("/v1/sms/<uid>", responses=answers(Message))
@tracer.capture_method
def read(uid: str) -> dict:
    return get_message(caller(app).tenant_id, uid)


def _mission_request() -> tuple[MissionFields, bytes | None]:
    """JSON (the list follows through the upload URL) or multipart/form-data with the
    list in the part `number_list` and the other fields as form fields."""
    content_type = (app.current_event.headers.get("Content-Type") or "").lower()
    if content_type.startswith("multipart/form-data"):
        form = parse_form(app)
        if "number_list" not in form.files:
            raise BadRequest("the form has no file in the part 'number_list'")
        return validated(MissionFields, form.fields), form.files["number_list"]
    return validated(MissionFields, json_body(app)), None


@app.post(
    "/v1/missions",
    description="Create a mission (JSON, or multipart with number_list)",
    responses=answers(CreatedMission),
)
@tracer.capture_method
def create_mission() -> Response[dict]:
    tenant = get_tenant(caller(app).tenant_id)
    fields, number_list = _mission_request()

    def create() -> dict[str, Any]:
        view = missions.create_mission(tenant, fields, number_list, clock.now())
        metrics.add_metric(name="MissionsCreated", unit="Count", value=1)
        return view

    key = app.current_event.headers.get("Idempotency-Key")
    if key:
        # The list is compared by its digest: the same key with another list is a client
        # bug, and the file itself need not be kept with the first answer.
        digest = hashlib.sha256(number_list).hexdigest() if number_list is not None else None
        body = {"fields": fields.model_dump(mode="json"), "number_list_sha256": digest}
        view = once("create-mission", tenant.tenant_id, key, body, create, app.lambda_context)
    else:
        view = create()
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.post(
    "/v1/missions/preview",
    description="Validate a mission and its list; store nothing",
    responses=answers(MissionPreview),
)
@tracer.capture_method
def preview_mission() -> dict:
    tenant = get_tenant(caller(app).tenant_id)
    fields, number_list = _mission_request()
    if number_list is None:
        raise BadRequest("a preview needs the number list in the part 'number_list'")
    return missions.preview(tenant, fields, number_list, clock.now())


@app.get("/v1/missions", responses=answers(MissionPage))
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


@app.get("/v1/missions/<mission_id>", responses=answers(Mission))
@tracer.capture_method
def read_mission(mission_id: str) -> dict:
    return missions.read_mission(caller(app).tenant_id, mission_id)


@app.get("/v1/missions/<mission_id>/messages", responses=answers(MissionMessagePage))
@tracer.capture_method
def mission_messages(
    mission_id: str,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    return missions.list_mission_messages(
        caller(app).tenant_id, mission_id, page_size(page_size_), cursor
    )


@app.get("/v1/missions/<mission_id>/abnormal", responses=answers(AbnormalPage))
@tracer.capture_method
def mission_abnormal(
    mission_id: str,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return missions.list_abnormal(caller(app).tenant_id, mission_id, page_size(page_size_), cursor)


@app.get("/v1/missions/<mission_id>/blacklisted", responses=answers(BlacklistedPage))
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
