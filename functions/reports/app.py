"""Reports: the account overview, SMS delivery and expense statistics per dispatching
date (the tenant's, and the operator's view of any tenant's), a channel's statistics (the
operator's), and the dispatching log with its export."""

from datetime import date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms import clock
from cloudsms.api import Cursor, PageSize, answers, caller, make_resolver, operator
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import Outcome
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import channels, dispatching_log, exports, orders, prepared_exports
from cloudsms.services.dispatching_log import LogFilter, LogPage, LogTotal
from cloudsms.services.orders import Orders
from cloudsms.services.overview import Overview, overview
from cloudsms.services.pages import page_size
from cloudsms.services.prepared_exports import PreparedExport
from cloudsms.services.statistics import (
    ChannelStatistics,
    Expenses,
    Statistics,
    channel_statistics,
    daily_statistics,
    expense_statistics,
)
from cloudsms.services.tenants import get_tenant
from cloudsms.store.tenants import TenantModel

app = make_resolver()

TIME_HELP = "ISO 8601; without an offset it is read in the tenant's time zone"
From = Annotated[str | None, Query(alias="from", description=f"Dispatched from; {TIME_HELP}")]
To = Annotated[str | None, Query(alias="to", description=f"Dispatched until; {TIME_HELP}")]
PhoneNumber = Annotated[str | None, Query(alias="phone", description="With its country code")]
Uid = Annotated[str | None, Query(description="One message's UID")]
MissionName = Annotated[str | None, Query(alias="mission", description="Part of a mission name")]
Status = Annotated[Outcome | None, Query(description="SMS status")]
Type = Annotated[SmsType | None, Query(alias="sms_type")]
StartDate = Annotated[date | None, Query(alias="from", description="First dispatching date")]
EndDate = Annotated[date | None, Query(alias="to", description="Last dispatching date")]
Format = Annotated[exports.ExportFormat, Query(alias="format")]


def _caller_log(
    now: datetime,
    start: str | None,
    end: str | None,
    phone_number: str | None,
    uid: str | None,
    mission: str | None,
    status: Outcome | None,
    sms_type: SmsType | None,
) -> tuple[TenantModel, LogFilter]:
    """The caller's tenant, and the dispatching log its query asks for (the log, its
    export and its prepared export take the same filters)."""
    tenant = get_tenant(caller(app).tenant_id)
    log = dispatching_log.log_filter(
        tenant, now, start, end, phone_number, uid, mission, status, sms_type
    )
    return tenant, log


@app.get(
    "/v1/overview",
    operation_id="read_overview",
    description="The SMS Overview: tenant, route ids, today's sending",
    responses=answers(Overview),
)
@tracer.capture_method
def account_overview() -> dict:
    principal = caller(app)
    return overview(get_tenant(principal.tenant_id), principal, clock.now())


@app.get("/v1/statistics", operation_id="read_statistics", responses=answers(Statistics))
@tracer.capture_method
def statistics(start: StartDate = None, end: EndDate = None) -> dict:
    return _statistics(get_tenant(caller(app).tenant_id), start, end)


@app.get(
    "/v1/statistics/expenses",
    operation_id="read_expenses",
    description="Expense Statistics: submitted messages, segments and cost per dispatching "
    "date and channel (only those that cost anything), newest first, with the total",
    responses=answers(Expenses),
)
@tracer.capture_method
def expenses(start: StartDate = None, end: EndDate = None) -> dict:
    return _expenses(get_tenant(caller(app).tenant_id), start, end)


def _statistics(tenant: TenantModel, start: date | None, end: date | None) -> dict:
    """A tenant's statistics, in its own time zone: the days it sees, whoever reads them."""
    rows = daily_statistics(tenant.tenant_id, tenant.time_zone, clock.now(), _iso(start), _iso(end))
    return {"time_zone": tenant.time_zone, "days": rows}


def _expenses(tenant: TenantModel, start: date | None, end: date | None) -> dict:
    found = expense_statistics(
        tenant.tenant_id, tenant.time_zone, clock.now(), _iso(start), _iso(end)
    )
    return {"time_zone": tenant.time_zone, **found}


@app.get(
    "/v1/orders",
    operation_id="list_orders",
    description="Product Order Mgt: the tenant's package orders, the latest first, with the "
    "remaining amount of prepaid ones and the month's spending of post-paid ones",
    responses=answers(Orders),
)
@tracer.capture_method
def list_orders() -> dict:
    return orders.list_orders(caller(app).tenant_id, clock.now())


@app.get(
    "/v1/admin/channels/<route_id>/statistics",
    operation_id="read_channel_statistics",
    description="A channel's statistics per day, every tenant together (operator). A "
    "message counts on its dispatching date in its tenant's time zone; without from/to, the "
    "last 7 days to the latest date any tenant is in",
    responses=answers(ChannelStatistics),
)
@tracer.capture_method
def channel_days(route_id: str, start: StartDate = None, end: EndDate = None) -> dict:
    operator(app)
    channels.read_channel(route_id)  # 404 for a channel that does not exist
    rows = channel_statistics(route_id, clock.now(), _iso(start), _iso(end))
    return {"route_id": route_id, "days": rows}


@app.get(
    "/v1/admin/tenants/<tenant_id>/statistics",
    operation_id="read_tenant_statistics",
    description="A tenant's SMS delivery statistics per dispatching date, as the tenant "
    "reads them (operator): the same rows, in the tenant's time zone",
    responses=answers(Statistics),
)
@tracer.capture_method
def tenant_statistics(tenant_id: str, start: StartDate = None, end: EndDate = None) -> dict:
    operator(app)
    return _statistics(get_tenant(tenant_id), start, end)  # 404 for a tenant not there


@app.get(
    "/v1/admin/tenants/<tenant_id>/statistics/expenses",
    operation_id="read_tenant_expenses",
    description="A tenant's Expense Statistics, as the tenant reads them (operator): what "
    "it sent cost per dispatching date and channel, in the tenant's time zone, with the "
    "total",
    responses=answers(Expenses),
)
@tracer.capture_method
def tenant_expenses(tenant_id: str, start: StartDate = None, end: EndDate = None) -> dict:
    operator(app)
    return _expenses(get_tenant(tenant_id), start, end)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@app.get(
    "/v1/messages",
    operation_id="list_messages",
    description="The dispatching log, newest first; numbers masked. Without from/to: "
    "yesterday and today. A page may be short when filters match rarely: follow next_cursor.",
    responses=answers(LogPage),
)
@tracer.capture_method
def list_messages(
    start: From = None,
    end: To = None,
    phone_number: PhoneNumber = None,
    uid: Uid = None,
    mission: MissionName = None,
    status: Status = None,
    sms_type: Type = None,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    tenant, log = _caller_log(clock.now(), start, end, phone_number, uid, mission, status, sms_type)
    return dispatching_log.page(tenant.tenant_id, log, page_size(page_size_), cursor)


@app.get(
    "/v1/messages/total",
    operation_id="count_messages",
    description="How many messages the dispatching log holds with the same filters: total, "
    "counted up to 10,000 and within a read budget; total_exact is false when there are "
    "at least that many. Apart from the log's pages, which each stay within their own budget.",
    responses=answers(LogTotal),
)
@tracer.capture_method
def count_messages(
    start: From = None,
    end: To = None,
    phone_number: PhoneNumber = None,
    uid: Uid = None,
    mission: MissionName = None,
    status: Status = None,
    sms_type: Type = None,
) -> dict:
    tenant, log = _caller_log(clock.now(), start, end, phone_number, uid, mission, status, sms_type)
    return dispatching_log.total(tenant.tenant_id, log)


# The return type is left unannotated, as for the admin's number-list file: annotated, the
# event handler would validate the response and serialise an .xlsx as UTF-8 text.
@app.get(
    "/v1/messages/export",
    operation_id="export_messages",
    description="The dispatching log as a file, with the same filters. At most 15,000 rows "
    "and 4.5 MB; X-Export-Truncated says when more matched. Ask for .xlsx with an Accept "
    "header naming its type, so that API Gateway returns it as binary.",
)
@tracer.capture_method
def export_messages(
    start: From = None,
    end: To = None,
    phone_number: PhoneNumber = None,
    uid: Uid = None,
    mission: MissionName = None,
    status: Status = None,
    sms_type: Type = None,
    file_format: Format = exports.ExportFormat.XLSX,
):
    now = clock.now()
    tenant, log = _caller_log(now, start, end, phone_number, uid, mission, status, sms_type)
    export = exports.export_log(tenant, log, file_format, now)
    metrics.add_metric(name="LogRowsExported", unit="Count", value=export.rows)
    return Response(
        status_code=200,
        content_type=export.content_type,
        body=export.body,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Export-Rows": str(export.rows),
            "X-Export-Truncated": "true" if export.truncated else "false",
        },
    )


@app.post(
    "/v1/messages/exports",
    operation_id="request_export",
    description="Asks for the dispatching log as a file prepared in the background, with the "
    "same filters as the log, for logs too large for /v1/messages/export: up to 1,000,000 "
    "rows. Answers 202 with the export's status; poll /v1/messages/exports/{export_id} until "
    "it is ready, then download its download_url. A tenant may have 3 being prepared at once.",
    responses=answers(PreparedExport),
)
@tracer.capture_method
def request_export(
    start: From = None,
    end: To = None,
    phone_number: PhoneNumber = None,
    uid: Uid = None,
    mission: MissionName = None,
    status: Status = None,
    sms_type: Type = None,
    file_format: Format = exports.ExportFormat.XLSX,
) -> Response[dict]:
    now = clock.now()
    tenant, log = _caller_log(now, start, end, phone_number, uid, mission, status, sms_type)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=prepared_exports.request_export(tenant, log, file_format, now),
    )


@app.get(
    "/v1/messages/exports/<export_id>",
    operation_id="read_export",
    description="A prepared export: status preparing, ready (with a download_url valid for "
    "15 minutes), failed (with the error) or expired (files are kept for a day)",
    responses=answers(PreparedExport),
)
@tracer.capture_method
def export_status(export_id: str) -> dict:
    return prepared_exports.export_view(caller(app).tenant_id, export_id, clock.now())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
