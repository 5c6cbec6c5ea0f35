"""Portal accounts: the log-in page (verify code, log-in), the logged-in account (log-out,
password change), and the operator's account management."""

from datetime import datetime

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudsms import clock
from cloudsms.api import answers, caller, concerns, make_resolver, operator
from cloudsms.observability import logger, metrics, tracer
from cloudsms.services import accounts, login_limit
from cloudsms.validation import one_line_name

app = make_resolver()


class LogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_name: str = Field(min_length=1, max_length=30)
    password: str = Field(min_length=1, max_length=128)
    captcha_id: str = Field(min_length=1, max_length=64)
    captcha: str = Field(min_length=1, max_length=16, description="The verify code's text")

    # A blank name, named as such: looked up, it would be an empty key DynamoDB refuses.
    _account_name = field_validator("account_name", mode="before")(one_line_name("account name"))


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class AccountFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What create_account accepts, said in the schema too (it refuses the rest in words of
    # its own): a client built from the document would otherwise offer any string.
    account_name: str = Field(json_schema_extra={"pattern": f"^{accounts.NAME.pattern}$"})
    tenant_id: str
    account_type: str = Field("tenant", json_schema_extra={"enum": list(accounts.ACCOUNT_TYPES)})
    role: str = Field("tenant_manager", json_schema_extra={"enum": list(accounts.ROLES)})


class SessionAnswer(BaseModel):
    """A session: logging in, or changing the password, answers one."""

    token: str = Field(description="Use it as the API key; shown this once")
    expires_at: datetime
    account: accounts.Account


class IssuedAccount(BaseModel):
    """An account and its temporary password, shown this once."""

    account: accounts.Account
    password: str = Field(description="Temporary: to be changed at the first log-in")


class TenantAccounts(BaseModel):
    accounts: list[accounts.Account]


def _created(body: dict) -> Response[dict]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def _no_content() -> Response[str]:
    return Response(status_code=204, body="")


# --- the log-in page (no key yet: these two routes have no authorizer) -----------------------


@app.post(
    "/v1/captchas",
    operation_id="create_captcha",
    description="A verify-code image for the log-in page, usable once; refused (429) to an "
    "address over its limit of failed log-ins",
    responses=answers(accounts.Captcha),
)
@tracer.capture_method
def new_captcha() -> Response[dict]:
    return _created(accounts.new_captcha(clock.now(), _source_ip()))


@app.post(
    "/v1/sessions",
    operation_id="log_in",
    description="Logs an account in: answers a session token (shown once) to use as the "
    f"API key until it expires. A wrong name or password answers 401; {accounts.lock_rule()}. "
    f"{login_limit.rule().capitalize()} (429, with Retry-After)",
    responses=answers(SessionAnswer),
)
@tracer.capture_method
def log_in(request: LogIn) -> Response[dict]:
    session = accounts.log_in(
        request.account_name,
        request.password,
        request.captcha_id,
        request.captcha,
        clock.now(),
        _source_ip(),
    )
    return _created(_session(session))


def _source_ip() -> str:
    """The caller's address as API Gateway saw it (never a header the caller could set)."""
    return app.current_event.request_context.identity.source_ip


def _session(session: accounts.Session) -> dict:
    return {
        "token": session.token,
        "expires_at": session.expires_at.isoformat(),
        "account": session.account,
    }


# --- the logged-in account -------------------------------------------------------------------


@app.get(
    "/v1/account",
    operation_id="read_account",
    description="The account the caller's session belongs to",
    responses=answers(accounts.Account),
)
@tracer.capture_method
def current_account() -> dict:
    return accounts.view(accounts.session_account(caller(app, password_change=True), clock.now()))


@app.delete(
    "/v1/sessions/current",
    operation_id="log_out",
    description="Logs out: the session's token stops working",
)
@tracer.capture_method
def log_out() -> Response[str]:
    accounts.log_out(caller(app, password_change=True), clock.now())
    return _no_content()


@app.post(
    "/v1/account/password",
    operation_id="change_password",
    description="Changes the logged-in account's password. Answers a new session token "
    "(shown once) that replaces the caller's: every session of the account ends",
    responses=answers(SessionAnswer),
)
@tracer.capture_method
def change_password(request: PasswordChange) -> dict:
    session = accounts.change_password(
        caller(app, password_change=True),
        request.current_password,
        request.new_password,
        clock.now(),
    )
    return _session(session)


# --- the operator's ----------------------------------------------------------------------


@app.post(
    "/v1/admin/accounts",
    operation_id="create_account",
    description="Adds a portal account to a tenant (operator). Answers its temporary "
    "password once; it must be changed at the first log-in",
    responses=answers(IssuedAccount),
)
@tracer.capture_method
def create_account(fields: AccountFields) -> Response[dict]:
    operator(app)
    issued = accounts.create_account(
        fields.account_name, fields.tenant_id, fields.account_type, fields.role
    )
    concerns(app, fields.tenant_id)
    return _created({"account": issued.account, "password": issued.password})


@app.get(
    "/v1/admin/tenants/<tenant_id>/accounts",
    operation_id="list_accounts",
    description="A tenant's accounts (operator)",
    responses=answers(TenantAccounts),
)
@tracer.capture_method
def list_accounts(tenant_id: str) -> dict:
    operator(app)
    return {"accounts": accounts.list_accounts(tenant_id)}


@app.post(
    "/v1/admin/accounts/<account_name>/password-reset",
    operation_id="reset_password",
    description="A new temporary password for an account (operator), answered once; the "
    "account's lock is lifted and its sessions end",
    responses=answers(IssuedAccount),
)
@tracer.capture_method
def reset_password(account_name: str) -> dict:
    operator(app)
    issued = accounts.reset_password(account_name, clock.now())
    concerns(app, issued.account["tenant_id"])
    return {"account": issued.account, "password": issued.password}


@app.post(
    "/v1/admin/accounts/<account_name>/disable",
    operation_id="disable_account",
    description="Disables an account (operator): it can no longer log in, its sessions end",
    responses=answers(accounts.Account),
)
@tracer.capture_method
def disable_account(account_name: str) -> dict:
    operator(app)
    disabled = accounts.disable_account(account_name, clock.now())
    concerns(app, disabled["tenant_id"])
    return disabled


@app.post(
    "/v1/admin/accounts/<account_name>/enable",
    operation_id="enable_account",
    description="Lets a disabled account log in again (operator)",
    responses=answers(accounts.Account),
)
@tracer.capture_method
def enable_account(account_name: str) -> dict:
    operator(app)
    enabled = accounts.enable_account(account_name)
    concerns(app, enabled["tenant_id"])
    return enabled


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
