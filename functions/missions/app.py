"""The Web API's mission routes that read a whole number list: creating a mission and
previewing one. A function of their own (MissionFunction in template.yaml): a 1 MB list
takes seconds of CPU, which Lambda gives in proportion to memory, and the memory it
needs to answer within API Gateway's 29 s would make every verify code of the send
function (POST /v1/sms) dearer. README.md "Request time on Lambda" has the measurement."""

import hashlib
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.adapters.idempotency import once
from cloudsms.api import answers, caller, json_body, make_resolver, parse_form
from cloudsms.domain.mission import CreatedMission, MissionFields, MissionPreview
from cloudsms.errors import BadRequest
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import missions, request_limit
from cloudsms.services.tenants import get_tenant
from cloudsms.validation import validated

app = make_resolver()


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
    operation_id="create_mission",
    description="Create a mission (JSON, or multipart with number_list)",
    responses=answers(CreatedMission),
)
@tracer.capture_method
def create_mission() -> Response[dict]:
    tenant = get_tenant(caller(app).tenant_id)
    fields, number_list = _mission_request()

    def create() -> dict[str, Any]:
        # Inside `once`: a retry answered with the first mission is not counted again.
        request_limit.take_request(tenant, clock.now())
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
    operation_id="preview_mission",
    description="Validate a mission and its list; store nothing",
    responses=answers(MissionPreview),
)
@tracer.capture_method
def preview_mission() -> dict:
    tenant = get_tenant(caller(app).tenant_id)
    # Limited as creating a mission is: a preview reads and checks the whole list (up to
    # seconds of a function's time), and previews without end would take the account's
    # concurrency from every tenant's sending and receipts.
    request_limit.take_request(tenant, clock.now())
    fields, number_list = _mission_request()
    if number_list is None:
        raise BadRequest("a preview needs the number list in the part 'number_list'")
    return missions.preview(tenant, fields, number_list, clock.now())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
