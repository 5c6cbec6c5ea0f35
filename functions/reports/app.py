"""Reports: SMS delivery statistics per dispatching date."""

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.api import caller, make_resolver
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services.statistics import daily_statistics
from cloudsms.services.tenants import get_tenant

app = make_resolver()


@app.get("/v1/statistics")
@tracer.capture_method
def statistics(
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict:
    tenant = get_tenant(caller(app).tenant_id)
    rows = daily_statistics(
        tenant.tenant_id,
        tenant.time_zone,
        clock.now(),
        start.isoformat() if start else None,
        end.isoformat() if end else None,
    )
    return {"time_zone": tenant.time_zone, "days": rows}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
