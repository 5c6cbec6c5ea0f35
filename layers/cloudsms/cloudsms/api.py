"""What every API handler shares: the resolver, the error shape and the caller."""

import base64
import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as email_policy
from re import Match
from typing import Annotated, Any, cast
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import (
    ApiGatewayResolver,
    APIGatewayRestResolver,
    CORSConfig,
    LambdaFunctionUrlResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from cloudsms import clock, validation
from cloudsms.domain import phone
from cloudsms.errors import BadRequest, CloudSmsError, Forbidden, Unauthorized
from cloudsms.observability import logger
from cloudsms.services import audit
from cloudsms.services.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from cloudsms.services.tenants import PASSWORD_CHANGE, Principal
from cloudsms.settings import get_settings

# A paged list's query. The page size's bounds are declared here, where the OpenAPI
# document reads them, rather than only checked by the service: a client generated from
# the document would otherwise let a caller ask for 500 and be refused.
PageSize = Annotated[
    int | None,
    Query(
        alias="page_size",
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page (1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE})",
    ),
]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


# The CMI CloudSMS Web API's clients POST their JSON "raw", under whatever Content-Type
# their HTTP library sends by default (a form's, often).
ANY_CONTENT_TYPE = frozenset({"/v1/cmi"})


def answers(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    """A route's `responses`: the model of its success body, for the OpenAPI document
    only (the handler's return annotation stays `dict`, which the event handler does not
    validate field by field). Documented as 200; scripts/openapi.py moves it to the status
    the handler answers (201, 202)."""
    content: Any = {"application/json": {"model": model}}
    return {200: {"description": "Successful Response", "content": content}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any],
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details}},
        headers=headers,
    )


class _RestResolver(APIGatewayRestResolver):
    """A REST API hands the function the path as the client wrote it, escapes and all
    ("%2B63…" for "+63…", "a%2Fb" for "a/b"), and the resolver takes the handlers' path
    parameters from that path. They are decoded here, once, so that every handler reads,
    and every message names, the value the client meant."""

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def make_resolver() -> APIGatewayRestResolver:
    """The resolver of a function behind the Web API (a REST API)."""
    cors = CORSConfig(
        allow_origin=get_settings().portal_origin,
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key"],
        expose_headers=[
            "Content-Disposition",
            "X-Export-Rows",
            "X-Export-Truncated",
            "Retry-After",
        ],
        max_age=600,
    )
    app = _RestResolver(
        enable_validation=True, cors=cors, json_body_deserializer=validation.loads_json
    )
    _answer_errors(app)
    app.use(middlewares=[_no_oversized_path_values, _no_url_encoded_form, _record_changes])
    return app


# No path parameter names anything longer (a uid is 30 characters, a route id 64 at
# most), and DynamoDB refuses a key over 1,024 bytes with an error that would end in a
# 500: a longer value names nothing.
MAX_PATH_VALUE_BYTES = 256


def _no_oversized_path_values(app: ApiGatewayResolver, next_middleware: Any) -> Response:
    values = (app.current_event.get("pathParameters") or {}).values()
    if any(len(value.encode()) > MAX_PATH_VALUE_BYTES for value in values):
        return error_response(404, "not_found", "no such resource", [])
    return next_middleware(app)  # type: ignore[no-any-return]


def _no_url_encoded_form(app: ApiGatewayResolver, next_middleware: Any) -> Response:
    """The Web API takes JSON (and multipart for files), never a URL-encoded form (the
    handlers that read their body themselves would read a JSON body sent as one). Routes
    for clients written for another API read their body whatever its Content-Type."""
    if _url_encoded_form(app) and app.current_event.get("resource") not in ANY_CONTENT_TYPE:
        raise RequestUnsupportedContentType("a URL-encoded form", [])
    return next_middleware(app)  # type: ignore[no-any-return]


def _url_encoded_form(app: ApiGatewayResolver) -> bool:
    """Whether the request has a body sent as a URL-encoded form (an empty one, as
    `curl -d ''` sends to a route that takes no body, is no body at all)."""
    content_type = app.current_event.headers.get("Content-Type") or ""
    form = content_type.lower().startswith("application/x-www-form-urlencoded")
    return form and bool(app.current_event.body)


CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Requests that change something but are not configuration, so not in the audit trail:
# sending (messages and missions are their own record, and a write more per message
# would cost every message), a preview and an export (nothing changes), and the log-in
# page and sessions (each log-in is logged already).
NOT_AUDITED = frozenset(
    {
        "POST /v1/sms",
        "POST /v1/cmi",
        "POST /v1/missions",
        "POST /v1/missions/preview",
        "POST /v1/messages/exports",
        "POST /v1/captchas",
        "POST /v1/sessions",
        "DELETE /v1/sessions/current",
    }
)


# The tenant a change concerns when its path does not name it (`concerns`).
CONCERNED = "audit_tenant_id"


def concerns(app: ApiGatewayResolver, tenant_id: str) -> None:
    """Says which tenant a route's change concerns when its path names none (an operator's
    change of a tenant's account), so that its audit entry is that tenant's, and the
    tenant sees it."""
    app.append_context(**{CONCERNED: tenant_id})


def _record_changes(app: ApiGatewayResolver, next_middleware: Any) -> Response:
    """Every change a route made (a 2xx answer to a POST, PUT, PATCH or DELETE) goes in
    the audit trail: who, on which tenant, the route and its path parameters. Never the
    body: it may carry a channel's credentials or a password."""
    response: Response = next_middleware(app)
    event = cast(APIGatewayProxyEvent, app.current_event)  # the REST API's resolver's
    if event.http_method not in CHANGES or not 200 <= response.status_code < 300:
        return response
    action = f"{event.http_method} {event.resource}"
    if action in NOT_AUDITED:
        return response
    context = event.request_context.authorizer.get_context()
    if not context.get("tenant_id"):
        return response  # refused before it changed anything: no one to record
    target = {name: unquote(value) for name, value in (event.path_parameters or {}).items()}
    if "number" in target:  # a number taken off a blacklist: a phone number, never whole
        target["number"] = _masked(target["number"])
    change = audit.Change(
        # A portal session's key id says nothing to a reader: its account's name does.
        actor=context.get("account") or context.get("key_id", ""),
        role=context.get("role"),
        key_id=context.get("key_id"),
        # An operator's change of one tenant is that tenant's (named by the path, or by
        # the route: `concerns`); the rest, the caller's.
        tenant_id=app.context.get(CONCERNED) or target.get("tenant_id") or context["tenant_id"],
        action=action,
        target=target,
        fields=_field_names(event),
        request_id=event.request_context.request_id,
        source_ip=event.request_context.identity.source_ip,
    )
    audit.record(change, clock.now())
    return response


def _masked(raw: str) -> str:
    """A phone number as the logs show one: its middle starred."""
    try:
        return phone.mask_numbers_in(phone.normalise_listed(raw))
    except phone.InvalidNumber:
        return "*" * len(raw)


# A field's name as the API's models spell them; anything else in a body's keys is not
# recorded (the models refuse unknown fields, but the trail must never hold a value).
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _field_names(event: APIGatewayProxyEvent) -> tuple[str, ...]:
    """The names of the fields a JSON body gave: what a PATCH changed ("password", not
    "prices_usd"). A body that is no JSON object (a file imported) names none."""
    try:
        body = validation.loads_json(event.decoded_body or "") if event.body else None
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    return tuple(sorted(name for name in body if FIELD_NAME.fullmatch(name)))


def make_function_url_resolver() -> LambdaFunctionUrlResolver:
    """The resolver of a function called at its own function URL. No CORS: its callers
    are servers (carrier gateways), never a browser."""
    app = LambdaFunctionUrlResolver(
        enable_validation=True, json_body_deserializer=validation.loads_json
    )
    _answer_errors(app)
    return app


def _answer_errors(app: ApiGatewayResolver) -> None:
    """Errors answer with the error shape, whichever way the function is called."""

    @app.exception_handler(CloudSmsError)
    def _domain_error(error: CloudSmsError) -> Response:
        return error_response(
            error.status, error.code, error.message, error.details, error.headers()
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_body(_: RequestUnsupportedContentType) -> Response:
        content_type = app.current_event.headers.get("Content-Type") or ""
        return error_response(
            415,
            "unsupported_media_type",
            f"the body must be JSON (Content-Type: application/json), not {content_type[:60]}",
            [],
        )

    @app.exception_handler(ValueError)
    def _unreadable_multipart(error: ValueError) -> Response:
        # Powertools reads a multipart body for a route with a body model, and raises a
        # bare ValueError for one without a boundary, which would end in a 502.
        content_type = (app.current_event.headers.get("Content-Type") or "").lower()
        if content_type.startswith("multipart/form-data") and "boundary" in str(error):
            message = "a multipart/form-data body needs the boundary in its Content-Type"
            return error_response(400, "bad_request", message, [])
        raise error

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        if _url_encoded_form(app):
            # Powertools read a JSON body sent as a form (curl -d's default) as one, with
            # the whole body as a field name, which would come back in the error.
            return _unsupported_body(RequestUnsupportedContentType("a form", []))
        details = validation.details(error.errors())
        summary = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
        return error_response(400, "invalid_request", summary or "invalid request", details)

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error_response(404, "not_found", "no such resource", [])


def caller(app: APIGatewayRestResolver, password_change: bool = False) -> Principal:
    """The principal the authorizer resolved. Never taken from the body or the query.
    `password_change`: whether a session that must change its password may do this."""
    context = app.current_event.request_context.authorizer.get_context()
    tenant_id = context.get("tenant_id")
    if not tenant_id:
        logger.error("request reached a handler without an authorizer context")
        raise Unauthorized("no authorizer context")
    role = context.get("role", "tenant")
    if role == PASSWORD_CHANGE and not password_change:
        raise Forbidden(
            "this session logged in with a temporary password: change it first "
            "(POST /v1/account/password)"
        )
    return Principal(tenant_id=tenant_id, role=role, key_id=context.get("key_id", ""))


@dataclass
class Form:
    fields: dict[str, str]
    files: dict[str, bytes]


def parse_form(app: APIGatewayRestResolver) -> Form:
    """A multipart/form-data body: its text fields and its files."""
    event = app.current_event
    content_type = event.headers.get("Content-Type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("expected a multipart/form-data body")
    raw = raw_body(app)
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + raw
    )
    if not message.is_multipart():
        raise BadRequest("the multipart/form-data body could not be read")
    form = Form(fields={}, files={})
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        if part.get_filename() is not None:
            form.files[str(name)] = payload
        else:
            form.fields[str(name)] = payload.decode("utf-8", errors="replace")
    return form


def raw_body(app: APIGatewayRestResolver) -> bytes:
    """The body as the client sent it (API Gateway hands a binary media type over in
    base64)."""
    event = app.current_event
    if event.is_base64_encoded:
        return base64.b64decode(event.body or "")
    return (event.body or "").encode("utf-8", errors="surrogateescape")


def json_body(app: APIGatewayRestResolver) -> Any:
    try:
        return app.current_event.json_body if app.current_event.body else {}
    except ValueError as error:
        raise BadRequest("the body is not valid JSON") from error


def operator(app: APIGatewayRestResolver) -> Principal:
    """The caller, who must hold an operator key."""
    principal = caller(app)
    if principal.role != "operator":
        raise Forbidden("this needs an operator key")
    return principal
