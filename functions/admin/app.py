"""What tenants and the operator keep: SMS templates (the tenant's and the operator's
common ones) and the number-list template, blacklists (the tenant's and the operator's
platform-wide one), the tenant's status callback; and the operator's business channels
with their assignment to tenants, unmatched receipts, product packages and tenants'
orders of them. And the audit trail of who changed all that."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudsms import clock
from cloudsms.api import (
    Cursor,
    PageSize,
    answers,
    caller,
    make_resolver,
    operator,
    parse_form,
)
from cloudsms.domain.numberlist_template import template_csv, template_xlsx
from cloudsms.errors import BadRequest
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import (
    audit,
    blacklist,
    callbacks,
    channels,
    orders,
    receipts,
    templates,
    tenants,
)
from cloudsms.services.audit import AuditPage
from cloudsms.services.blacklist import BlacklistAdded, BlacklistImported, BlacklistPage
from cloudsms.services.callbacks import Callback
from cloudsms.services.channels import BusinessChannel, BusinessChannels
from cloudsms.services.orders import Order, Orders, Package, Packages
from cloudsms.services.pages import page_size
from cloudsms.services.receipts import UnmatchedReceipts
from cloudsms.services.templates import Template, TemplatePage
from cloudsms.settings import get_settings
from cloudsms.store.blacklist import PLATFORM

app = make_resolver()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BlacklistAddition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numbers: list[str] = Field(min_length=1, max_length=blacklist.MAX_NUMBERS_PER_REQUEST)
    reason: str = Field("", max_length=blacklist.MAX_REASON_LENGTH)

    @field_validator("numbers", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        # Before the length check, whose own words ("List should have at most 1000 items
        # after validation") do not say what to do instead.
        if isinstance(value, list) and len(value) > blacklist.MAX_NUMBERS_PER_REQUEST:
            raise ValueError(blacklist.too_many_numbers(len(value)))
        return value


# --- SMS templates ------------------------------------------------------------------------


@app.get("/v1/templates", operation_id="list_templates", responses=answers(TemplatePage))
@tracer.capture_method
def list_templates(page_size_: PageSize = None, cursor: Cursor = None) -> dict:
    return templates.list_templates(caller(app).tenant_id, page_size(page_size_), cursor)


@app.post("/v1/templates", operation_id="create_template", responses=answers(Template))
@tracer.capture_method
def create_template(fields: templates.TemplateFields) -> Response[dict]:
    view = templates.create_template(caller(app).tenant_id, fields)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


# The return type is left unannotated on purpose: annotated, the event handler validates
# the response and serialises its body as UTF-8 text, which an .xlsx is not (HTTP 500).
@app.get(
    "/v1/templates/number-list",
    operation_id="download_number_list_template",
    description="The number-list file for a content",
)
@tracer.capture_method
def number_list_template(
    content_: Annotated[str | None, Query(alias="content")] = None,
    template_id: Annotated[str | None, Query()] = None,
    file_format: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
):
    variables = templates.number_list_variables(caller(app).tenant_id, content_, template_id)
    if file_format == "csv":
        body, kind = template_csv(variables), "text/csv; charset=utf-8"
    else:
        body, kind = template_xlsx(variables), XLSX
    return Response(
        status_code=200,
        content_type=kind,
        body=body,
        headers={
            "Content-Disposition": f'attachment; filename="Data Import Template.{file_format}"'
        },
    )


# Before /v1/templates/<template_id>: the resolver tries routes in this order.
@app.get(
    "/v1/templates/common",
    operation_id="list_common_templates",
    description="The operator's common templates, to use",
    responses=answers(TemplatePage),
)
@tracer.capture_method
def list_common_templates(page_size_: PageSize = None, cursor: Cursor = None) -> dict:
    caller(app)
    return templates.list_templates(templates.COMMON, page_size(page_size_), cursor)


@app.get("/v1/templates/<template_id>", operation_id="read_template", responses=answers(Template))
@tracer.capture_method
def read_template(template_id: str) -> dict:
    return templates.template_view(templates.get_template(caller(app).tenant_id, template_id))


@app.patch(
    "/v1/templates/<template_id>", operation_id="update_template", responses=answers(Template)
)
@tracer.capture_method
def update_template(template_id: str, changes: templates.TemplateChanges) -> dict:
    return templates.update_template(caller(app).tenant_id, template_id, changes)


@app.delete("/v1/templates/<template_id>", operation_id="delete_template")
@tracer.capture_method
def delete_template(template_id: str) -> Response[str]:
    templates.delete_template(caller(app).tenant_id, template_id)
    return Response(status_code=204, body="")


@app.post(
    "/v1/admin/templates",
    operation_id="create_common_template",
    description="Adds a common template (operator)",
    responses=answers(Template),
)
@tracer.capture_method
def create_common_template(fields: templates.TemplateFields) -> Response[dict]:
    operator(app)
    view = templates.create_template(templates.COMMON, fields)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.patch(
    "/v1/admin/templates/<template_id>",
    operation_id="update_common_template",
    description="Changes a common template",
    responses=answers(Template),
)
@tracer.capture_method
def update_common_template(template_id: str, changes: templates.TemplateChanges) -> dict:
    operator(app)
    return templates.update_template(templates.COMMON, template_id, changes)


@app.delete(
    "/v1/admin/templates/<template_id>",
    operation_id="delete_common_template",
    description="Deletes a common template",
)
@tracer.capture_method
def delete_common_template(template_id: str) -> Response[str]:
    operator(app)
    templates.delete_template(templates.COMMON, template_id)
    return Response(status_code=204, body="")


# --- blacklists -----------------------------------------------------------------------------

NumberStart = Annotated[
    str | None,
    Query(
        description="Only the numbers that start so: a whole number or its first digits, "
        'country code first, "+" optional (+63917 finds +639171234567)'
    ),
]


@app.get("/v1/blacklist", operation_id="list_blacklist", responses=answers(BlacklistPage))
@tracer.capture_method
def list_blacklist(
    page_size_: PageSize = None, cursor: Cursor = None, number: NumberStart = None
) -> dict:
    return blacklist.list_numbers(
        caller(app).tenant_id, page_size(page_size_), cursor, blacklist.number_start(number)
    )


@app.post("/v1/blacklist", operation_id="add_to_blacklist", responses=answers(BlacklistAdded))
@tracer.capture_method
def add_blacklist(addition: BlacklistAddition) -> dict:
    return blacklist.add_numbers(caller(app).tenant_id, addition.numbers, addition.reason)


@app.post(
    "/v1/blacklist/import",
    operation_id="import_blacklist",
    description="multipart/form-data, the file in 'number_list'",
    responses=answers(BlacklistImported),
)
@tracer.capture_method
def import_blacklist() -> dict:
    return _import_blacklist_file(caller(app).tenant_id)


def _import_blacklist_file(owner: str) -> dict:
    """The form's file (part 'number_list') imported to `owner`'s blacklist."""
    form = parse_form(app)
    if "number_list" not in form.files:
        raise BadRequest("the form has no file in the part 'number_list'")
    return blacklist.import_file(
        owner,
        form.files["number_list"],
        get_settings().number_list_max_bytes,
        form.fields.get("reason", ""),
    )


@app.delete("/v1/blacklist/<number>", operation_id="remove_from_blacklist")
@tracer.capture_method
def remove_blacklist(number: str) -> Response[str]:
    blacklist.remove_number(caller(app).tenant_id, number)
    return Response(status_code=204, body="")


@app.get(
    "/v1/admin/blacklist", operation_id="list_platform_blacklist", responses=answers(BlacklistPage)
)
@tracer.capture_method
def list_platform_blacklist(
    page_size_: PageSize = None, cursor: Cursor = None, number: NumberStart = None
) -> dict:
    operator(app)
    return blacklist.list_numbers(
        PLATFORM, page_size(page_size_), cursor, blacklist.number_start(number)
    )


@app.post(
    "/v1/admin/blacklist",
    operation_id="add_to_platform_blacklist",
    responses=answers(BlacklistAdded),
)
@tracer.capture_method
def add_platform_blacklist(addition: BlacklistAddition) -> dict:
    operator(app)
    return blacklist.add_numbers(PLATFORM, addition.numbers, addition.reason)


@app.post(
    "/v1/admin/blacklist/import",
    operation_id="import_platform_blacklist",
    description="multipart/form-data, the file in 'number_list'",
    responses=answers(BlacklistImported),
)
@tracer.capture_method
def import_platform_blacklist() -> dict:
    operator(app)
    return _import_blacklist_file(PLATFORM)


@app.delete("/v1/admin/blacklist/<number>", operation_id="remove_from_platform_blacklist")
@tracer.capture_method
def remove_platform_blacklist(number: str) -> Response[str]:
    operator(app)
    blacklist.remove_number(PLATFORM, number)
    return Response(status_code=204, body="")


# --- business channels (the operator's) ---------------------------------------------------


class ChannelAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route_id: str = Field(min_length=1, max_length=64)


@app.post(
    "/v1/admin/channels",
    operation_id="create_channel",
    description="Credentials go to Secrets Manager, never back",
    responses=answers(BusinessChannel),
)
@tracer.capture_method
def create_channel(fields: channels.ChannelFields) -> Response[dict]:
    operator(app)
    view = channels.create_channel(fields)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.get("/v1/admin/channels", operation_id="list_channels", responses=answers(BusinessChannels))
@tracer.capture_method
def list_channels(page_size_: PageSize = None, cursor: Cursor = None) -> dict:
    operator(app)
    return channels.list_channels(page_size(page_size_), cursor)


@app.get(
    "/v1/admin/channels/<route_id>", operation_id="read_channel", responses=answers(BusinessChannel)
)
@tracer.capture_method
def read_channel(route_id: str) -> dict:
    operator(app)
    return channels.read_channel(route_id)


@app.patch(
    "/v1/admin/channels/<route_id>",
    operation_id="update_channel",
    responses=answers(BusinessChannel),
)
@tracer.capture_method
def update_channel(route_id: str, changes: channels.ChannelChanges) -> dict:
    operator(app)
    return channels.update_channel(route_id, changes)


@app.get("/v1/admin/tenants", operation_id="list_tenants", responses=answers(tenants.Tenants))
@tracer.capture_method
def list_tenants() -> dict:
    operator(app)
    return {"tenants": [tenants.tenant_view(t) for t in tenants.list_tenants()]}


class SenderIds(BaseModel):
    """PUT /v1/admin/tenants/{tenant_id}/sender-ids"""

    model_config = ConfigDict(extra="forbid")

    sender_ids: list[str] = Field(
        max_length=tenants.MAX_SENDER_IDS,
        description="The sender ids (OA) registered for the tenant; [] for any",
    )


class TenantSenderIds(BaseModel):
    tenant_id: str
    sender_ids: list[str] = Field(description="Empty: the tenant may send as any sender id")


@app.put(
    "/v1/admin/tenants/<tenant_id>/sender-ids",
    operation_id="set_sender_ids",
    description="The sender ids the tenant may send as (replaces its list)",
    responses=answers(TenantSenderIds),
)
@tracer.capture_method
def set_sender_ids(tenant_id: str, registered: SenderIds) -> dict:
    operator(app)
    tenant = tenants.set_sender_ids(tenant_id, registered.sender_ids)
    return {"tenant_id": tenant.tenant_id, "sender_ids": sorted(tenant.sender_ids or set())}


@app.put(
    "/v1/admin/tenants/<tenant_id>/request-limit",
    operation_id="set_request_limit",
    description="How fast the tenant's keys may send messages, create or preview missions "
    "(requests_per_second 0: not limited; {}: the stack's default)",
    responses=answers(tenants.TenantRequestLimit),
)
@tracer.capture_method
def set_request_limit(tenant_id: str, limit: tenants.RequestLimitFields) -> dict:
    operator(app)
    tenant = tenants.set_request_limit(tenant_id, limit.model_dump(exclude_unset=True))
    return {"tenant_id": tenant.tenant_id, **tenants.request_limit_view(tenant)}


@app.put(
    "/v1/admin/tenants/<tenant_id>/countries",
    operation_id="set_countries",
    description="The countries the tenant may send to, against SMS pumping (replaces its "
    "list; null: every country)",
    responses=answers(tenants.TenantCountries),
)
@tracer.capture_method
def set_countries(tenant_id: str, allowed: tenants.CountryFields) -> dict:
    operator(app)
    tenant = tenants.set_countries(tenant_id, allowed.countries)
    return {"tenant_id": tenant.tenant_id, "countries": tenants.countries_view(tenant)}


@app.post(
    "/v1/admin/tenants/<tenant_id>/channels",
    operation_id="assign_channel",
    description="Assign a channel",
)
@tracer.capture_method
def assign_channel(tenant_id: str, assignment: ChannelAssignment) -> Response[str]:
    operator(app)
    channels.assign_channel(tenant_id, assignment.route_id)
    return Response(status_code=204, body="")


@app.delete(
    "/v1/admin/tenants/<tenant_id>/channels/<route_id>",
    operation_id="unassign_channel",
    description="Unassign it",
)
@tracer.capture_method
def unassign_channel(tenant_id: str, route_id: str) -> Response[str]:
    operator(app)
    channels.unassign_channel(tenant_id, route_id)
    return Response(status_code=204, body="")


# --- product packages and orders (the operator's) ----------------------------------------


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: str = Field(min_length=1, max_length=64)


@app.post(
    "/v1/admin/packages",
    operation_id="create_package",
    description="A product package: a channel, prepaid or post-paid",
    responses=answers(Package),
)
@tracer.capture_method
def create_package(fields: orders.PackageFields) -> Response[dict]:
    operator(app)
    view = orders.create_package(fields, clock.now())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.get("/v1/admin/packages", operation_id="list_packages", responses=answers(Packages))
@tracer.capture_method
def list_packages() -> dict:
    operator(app)
    return orders.list_packages()


@app.post(
    "/v1/admin/tenants/<tenant_id>/orders",
    operation_id="place_order",
    description="Orders a package for a tenant; the tenant may send on its channel",
    responses=answers(Order),
)
@tracer.capture_method
def place_order(tenant_id: str, request: OrderRequest) -> Response[dict]:
    operator(app)
    view = orders.place_order(tenant_id, request.package_id, clock.now())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=view)


@app.get(
    "/v1/admin/tenants/<tenant_id>/orders",
    operation_id="list_tenant_orders",
    responses=answers(Orders),
)
@tracer.capture_method
def list_tenant_orders(tenant_id: str) -> dict:
    operator(app)
    return orders.list_orders(tenant_id, clock.now())


@app.post(
    "/v1/admin/tenants/<tenant_id>/orders/<order_number>/cancel",
    operation_id="cancel_order",
    description="Cancels an order (one entered by mistake): it pays for nothing from now on",
    responses=answers(Order),
)
@tracer.capture_method
def cancel_order(tenant_id: str, order_number: str) -> dict:
    operator(app)
    return orders.cancel_order(tenant_id, order_number, clock.now())


@app.get(
    "/v1/admin/receipts/unmatched",
    operation_id="list_unmatched_receipts",
    description="Receipts that matched no message",
    responses=answers(UnmatchedReceipts),
)
@tracer.capture_method
def list_unmatched_receipts(
    channel: Annotated[
        str | None, Query(description="one route's only; without it every route's, newest first")
    ] = None,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    operator(app)
    if channel:
        channels.read_channel(channel)  # 404 for a channel that does not exist
    return receipts.list_unmatched(channel, page_size(page_size_), cursor)


# --- status callbacks (the tenant's) ----------------------------------------------------------


@app.put(
    "/v1/callback",
    operation_id="register_callback",
    description="The signing secret is in the answer only when issued",
    responses=answers(Callback),
)
@tracer.capture_method
def put_callback(registration: callbacks.CallbackRegistration) -> dict:
    allow_loopback = get_settings().callback_loopback_allowed
    return callbacks.register(caller(app).tenant_id, registration, allow_loopback)


@app.get("/v1/callback", operation_id="read_callback", responses=answers(Callback))
@tracer.capture_method
def get_callback() -> dict:
    return callbacks.registration(caller(app).tenant_id)


@app.delete("/v1/callback", operation_id="delete_callback")
@tracer.capture_method
def delete_callback() -> Response[str]:
    callbacks.remove(caller(app).tenant_id)
    return Response(status_code=204, body="")


# --- the audit trail ---------------------------------------------------------------------

AuditFrom = Annotated[
    datetime | None,
    Query(alias="from", description="Changes made from this time (ISO 8601; UTC without offset)"),
]
AuditTo = Annotated[
    datetime | None,
    Query(alias="to", description="Changes made until this time (ISO 8601; UTC without offset)"),
]


@app.get(
    "/v1/audit",
    operation_id="list_audit",
    description="Who changed the caller's tenant's configuration, and when: newest first",
    responses=answers(AuditPage),
)
@tracer.capture_method
def list_audit(
    start: AuditFrom = None, end: AuditTo = None, page_size_: PageSize = None, cursor: Cursor = None
) -> dict:
    tenant_id = caller(app).tenant_id
    return audit.list_entries(
        tenant_id, start, end, page_size(page_size_), cursor, clock.now(), seen_by_tenant=True
    )


@app.get(
    "/v1/admin/audit",
    operation_id="list_platform_audit",
    description="Who changed what, every tenant's and the platform's: newest first",
    responses=answers(AuditPage),
)
@tracer.capture_method
def list_platform_audit(
    tenant: Annotated[
        str | None,
        Query(
            min_length=1, max_length=tenants.MAX_TENANT_ID, description="One tenant's changes only"
        ),
    ] = None,
    start: AuditFrom = None,
    end: AuditTo = None,
    page_size_: PageSize = None,
    cursor: Cursor = None,
) -> dict:
    operator(app)
    return audit.list_entries(tenant, start, end, page_size(page_size_), cursor, clock.now())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
