"""Scheduled missions: cancel one, or move its dispatch time."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from cloudsms import clock
from cloudsms.api import answers, caller, make_resolver
from cloudsms.domain.mission import Mission
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import missions, scheduling
from cloudsms.services.tenants import get_tenant
from cloudsms.store.missions import get_mission

app = make_resolver()


class MissionChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dispatch_at: str = Field(description="The new dispatch time, under the same rules")


@app.post(
    "/v1/missions/<mission_id>/cancel", operation_id="cancel_mission", responses=answers(Mission)
)
@tracer.capture_method
def cancel(mission_id: str) -> dict:
    tenant_id = caller(app).tenant_id
    scheduling.cancel(get_mission(tenant_id, mission_id), clock.now())
    metrics.add_metric(name="MissionsCancelled", unit="Count", value=1)
    return missions.read_mission(tenant_id, mission_id, consistent=True)


@app.patch(
    "/v1/missions/<mission_id>", operation_id="reschedule_mission", responses=answers(Mission)
)
@tracer.capture_method
def reschedule(mission_id: str, changes: MissionChanges) -> dict:
    tenant = get_tenant(caller(app).tenant_id)
    mission = get_mission(tenant.tenant_id, mission_id)
    scheduling.reschedule(mission, tenant, changes.dispatch_at, clock.now())
    return missions.read_mission(tenant.tenant_id, mission_id, consistent=True)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
