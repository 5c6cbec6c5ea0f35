"""Lambda REQUEST authorizer: resolves an API key to its tenant and role."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudsms.observability import logger, tracer
from cloudsms.services.authorization import key_from_headers, resolve

# Every route under it needs an operator key (the functions check the role as well).
OPERATOR_ROUTES = "/v1/admin/*"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    key = key_from_headers(event.headers)
    principal = resolve(key) if key else None
    if principal is None:
        logger.info("refused: no valid API key")
        # API Gateway answers 401 when an authorizer fails with exactly this message.
        raise Exception("Unauthorized")  # noqa: TRY002
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.key_id,
        context={
            "tenant_id": principal.tenant_id,
            "role": principal.role,
            "key_id": principal.key_id,
            # The audit trail names a session's account, not its key id.
            "account": principal.account,
        },
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
    )
    policy.allow_all_routes()
    if principal.role != "operator":
        # Refused here, before the admin function reads the body: otherwise a tenant's
        # malformed request would be answered 400 naming the fields instead of 403.
        policy.deny_route("*", OPERATOR_ROUTES)
    return policy.asdict()
