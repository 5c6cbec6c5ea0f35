"""What every API handler shares: the resolver, the error shape and the caller."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from cloudsms.errors import CloudSmsError, Unauthorized
from cloudsms.observability import logger
from cloudsms.services.tenants import Principal


def error_response(status: int, code: str, message: str, details: list[Any]) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details}},
    )


def _field(location: tuple[Any, ...]) -> str:
    # ("body", "to", 0) reads better as "to[0]"; the leading "body" says nothing.
    parts = [str(p) for p in location if p != "body"]
    return ".".join(parts) or "body"


def make_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(CloudSmsError)
    def _domain_error(error: CloudSmsError) -> Response:
        return error_response(error.status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        details = [
            {"field": _field(tuple(e.get("loc", ()))), "reason": e.get("msg", "")}
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
        return error_response(400, "invalid_request", summary or "invalid request", details)

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error_response(404, "not_found", "no such resource", [])

    return app


def caller(app: APIGatewayRestResolver) -> Principal:
    """The principal the authorizer resolved. Never taken from the body or the query."""
    context = app.current_event.request_context.authorizer.get_context()
    tenant_id = context.get("tenant_id")
    if not tenant_id:
        logger.error("request reached a handler without an authorizer context")
        raise Unauthorized("no authorizer context")
    return Principal(
        tenant_id=tenant_id, role=context.get("role", "tenant"), key_id=context.get("key_id", "")
    )
