"""Writes web/openapi.json: one OpenAPI document for the whole Web API.

Each function's resolver describes its own routes (`app.get_openapi_schema()`); this
merges them, adds how to authenticate, and marks the routes of a function called at a
function URL of its own (the delivery receipts), which take no API key (template.yaml
says which functions have one). The portal serves the file and renders it as
web/api.html.

    python scripts/openapi.py           # write web/openapi.json
    python scripts/openapi.py --check   # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import re
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "web" / "openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# What each function's operations are grouped under, in the order the document lists them.
TAGS = {
    "send": ("Sending", "One-off messages and bulk missions"),
    # Creating a mission is a function of its own (more CPU), in the same part of the API.
    "missions": ("Sending", "One-off messages and bulk missions"),
    "schedule": ("Scheduling", "Cancel or move a scheduled mission"),
    "admin": (
        "Templates, blacklists, callback",
        "SMS templates, number-list templates, blacklists, the status callback URL",
    ),
    "reports": ("Reports", "Overview, delivery statistics, the dispatching log and its export"),
    "accounts": (
        "Accounts",
        "Portal log-in (verify code, sessions), passwords",
    ),
    "dlr_webhook": (
        "Delivery receipts",
        "Where carrier gateways post receipts and recipients' replies (no API key)",
    ),
}
# The calls under /v1/admin/ take an operator key, whichever function serves them: one
# group, so that a client generated for a tenant keeps them apart (a module of their own).
OPERATOR_TAG = (
    "Operator",
    "The operator's calls (an operator key): tenants, channels, packages and orders, "
    "accounts, common templates, the platform blacklist, unmatched receipts",
)
DESCRIPTION = (
    "The CloudSMS Web API. JSON in and out under `/v1`; an error is "
    '`{"error": {"code", "message", "details"}}` with a fitting 4xx (a 5xx when the '
    "service fails). Every call carries a tenant API key (or a portal session's token) as "
    "`Authorization: Bearer <key>` or `X-API-Key: <key>`; only the log-in page's two calls "
    "take none. Lists are paged: pass a response's `next_cursor` back as `cursor`."
)
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (a tenant's or the operator's) or a portal session's token",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
# Either scheme will do. Said on each operation too, not only for the whole document:
# generators read an operation's own (openapi-python-client: whether a call needs an
# AuthenticatedClient, one that sends the key).
SECURITY = [{"bearer": []}, {"apiKey": []}]

API_SERVER = {
    "default": "http://127.0.0.1:3000",
    "description": "The stack's ApiUrl output; `make run` serves it on port 3000",
}


def _environment() -> None:
    """Handlers read settings at import; describing them needs no AWS, only a region."""
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def resolvers() -> dict[str, Any]:
    """Every function's resolver, by the function's directory name."""
    _environment()
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    found = {}
    for path in sorted((REPO_ROOT / "functions").glob("*/app.py")):
        module = importlib.import_module(f"functions.{path.parent.name}.app")
        app = getattr(module, "app", None)
        if isinstance(app, ApiGatewayResolver):
            found[path.parent.name] = app
    found["dlr_webhook"] = _receipt_routes()
    return found


def _receipt_routes() -> Any:
    """The receipt webhook's route, described: the webhook is a plain handler (see
    functions/dlr_webhook/app.py), so it has no resolver to describe it."""
    from cloudsms.api import make_function_url_resolver

    app = make_function_url_resolver()

    # Each method is an operation of its own, and so needs an operationId of its own.
    for method, suffix in (("GET", "_in_query"), ("POST", "")):

        @app.route("/dlr/<channel>", method=method, operation_id=f"receive_receipt{suffix}")
        def receive(channel: str) -> str:
            """A delivery receipt for a message sent through the channel; the query carries
            our uid, tenant and the channel's receipt secret. Answers `moved`, `part`,
            `ignored` or `unmatched` (Jasmin: `ACK/Jasmin`)."""
            raise NotImplementedError  # described, never called

        @app.route("/mo/<channel>", method=method, operation_id=f"receive_reply{suffix}")
        def reply(channel: str) -> str:
            """A recipient's reply that came in through the channel: Kannel's sms-service
            query (`from`, `to`, `text`, `charset`, `coding`) or Jasmin's form (`from`,
            `to`, `content`, `binary`, `coding`); the query carries the channel's receipt
            secret. An unsubscribe keyword (TD, T, 退订, 退訂, STOP, UNSUBSCRIBE) blacklists the
            number for each tenant that sent it a message offering to unsubscribe through
            the channel in the last 30 days. Answers `unsubscribed`, `ignored` or
            `no_route` (Jasmin: `ACK/Jasmin`)."""
            raise NotImplementedError  # described, never called

    return app


def public_routes() -> set[tuple[str, str]]:
    """Routes of an API that take no key (SAM's `Auth: {Authorizer: NONE}`)."""
    from cloudsms_local.template import load_template

    found = set()
    for resource in load_template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "Api" and props.get("Auth", {}).get("Authorizer") == "NONE":
                found.add((props["Method"].lower(), props["Path"]))
    return found


def function_url_functions() -> dict[str, str]:
    """The functions whose resolver is called at a function URL of their own rather than
    through the Web API: the logical id of each, by its directory's name."""
    from cloudsms_local.template import load_template

    found = {}
    for logical, resource in load_template()["Resources"].items():
        props = resource.get("Properties", {})
        if "FunctionUrlConfig" in props and props.get("Handler") == "app.lambda_handler":
            found[Path(props["CodeUri"]).name] = logical
    return found


def _function_url_server(function: str) -> dict[str, Any]:
    from cloudsms_local.template import function_url_path

    return {
        "default": API_SERVER["default"] + function_url_path(function),
        "description": "The function's URL (for receipts, the stack's ReceiptUrl output); "
        "`make run` serves it here",
    }


# Bodies a handler reads itself (multipart forms, see cloudsms.api.parse_form), which its
# resolver therefore cannot describe: each form's parts, by operation.
FORMS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/blacklist/import"): {
        "type": "object",
        "required": ["number_list"],
        "properties": {
            "number_list": {
                "type": "string",
                "format": "binary",
                "description": "An .xlsx or .csv file: the numbers in its first column, after "
                "its header row (a mission's number list imports as it is)",
            },
            "reason": {
                "type": "string",
                "maxLength": 200,  # services/blacklist.py MAX_REASON_LENGTH
                "description": "Kept with each number added",
            },
        },
    },
}


# Routes that read a mission's fields themselves (the event handler cannot describe
# them): as JSON, whose list follows through the upload URL, and as a multipart form with
# the list in the part number_list. True: JSON is taken too.
MISSION_BODIES = {("post", "/v1/missions"): True, ("post", "/v1/missions/preview"): False}
NUMBER_LIST_PART = {
    "type": "string",
    "format": "binary",
    "description": "The number list (.xlsx or .csv): a header row, the phone number first, "
    "then a column per variable",
}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE = {"type": "string", "format": "binary"}
EXPORT_HEADERS = {
    "Content-Disposition": {"schema": {"type": "string"}, "description": "The file's name"},
    "X-Export-Rows": {"schema": {"type": "integer"}, "description": "Rows in the file"},
    "X-Export-Truncated": {
        "schema": {"type": "string", "enum": ["true", "false"]},
        "description": "Whether more rows matched than the file holds",
    },
}
# Routes that answer a file, not JSON (their handlers return it as a Response the event
# handler cannot describe): the headers that come with it. An .xlsx, or a .csv in UTF-8
# with `format=csv`.
FILES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/messages/export"): EXPORT_HEADERS,
    ("get", "/v1/templates/number-list"): {
        "Content-Disposition": EXPORT_HEADERS["Content-Disposition"]
    },
}


def _file(operation: dict[str, Any], headers: dict[str, Any]) -> None:
    operation["responses"]["200"] = {
        "description": "The file: .xlsx, or .csv with format=csv",
        "headers": headers,
        "content": {XLSX: {"schema": FILE}, "text/csv": {"schema": FILE}},
    }


def _plain_text(operation: dict[str, Any]) -> None:
    """The receipt webhook answers the gateway in plain text (see its handler)."""
    documented = operation["responses"]["200"]
    documented["content"] = {"text/plain": {"schema": {"type": "string"}}}


def _mission_body(operation: dict[str, Any], json_too: bool) -> None:
    fields = {"$ref": "#/components/schemas/MissionFields"}
    form = {
        "allOf": [
            fields,
            {
                "type": "object",
                "required": ["number_list"],
                "properties": {"number_list": NUMBER_LIST_PART},
            },
        ]
    }
    content: dict[str, Any] = {"multipart/form-data": {"schema": form}}
    if json_too:
        content["application/json"] = {"schema": fields}
    operation["requestBody"] = {"required": True, "content": content}


# POST /v1/cmi reads the CMI CloudSMS Web API's JSON itself (its key is in the body) and
# answers in that API's shape, refusals too (services/cmi_api.py).
CMI = ("post", "/v1/cmi")
CMI_REFUSALS = {
    "400": "The request is not one the CMI API reads, or no number can be sent to",
    "401": "AUTH_KEY is not a valid API key",
    "403": "ROUTE_ID is not a channel of the tenant (CHANNEL_NOT_EXIST), or its product "
    "orders refuse the send (SEND_FAILED)",
    "404": "The channel was removed, or the key's tenant no longer exists",
    "409": "The same Idempotency-Key is still being processed, or was used with another "
    "request; or the prepaid packages were being spent: send again (BUSY)",
    "429": "The tenant's request limit (BUSY; see the 429 of POST /v1/sms), or API "
    "Gateway's throttling",
    "503": "The submit queue was unavailable: REASON says whether anything was sent",
}
CMI_DESCRIPTION = (
    "The CMI CloudSMS Web API, for clients written for it: `SMS_SEND_REQUEST` and "
    "`DR_QUERY`, in the flat or the `uip_head`/`uip_body` envelope, the API key as "
    "`AUTH_KEY` in the body (no header). Answered in the same envelope; `RESULT_CODE` 1 "
    "is success, a refusal 0 with its name in `RESULT_DESC` and its reason in `REASON`, "
    "and the HTTP status of the refusal. Any Content-Type is read as JSON."
)


def _cmi(operation: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/cmi's body and refusals in the CMI shape; the schemas they refer to."""
    from cloudsms.services.cmi_api import CmiRequests

    schema = CmiRequests.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = {**schema.pop("$defs", {}), "CmiRequests": schema}
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/CmiRequests"}}}
    operation["description"] = CMI_DESCRIPTION
    operation["requestBody"] = {"required": True, "content": content}
    answer = operation["responses"]["200"]["content"]
    for status, description in CMI_REFUSALS.items():
        operation["responses"][status] = {"description": description, "content": answer}
    # The request limit answers in the CMI shape; API Gateway's throttling in the Web API's.
    either = [answer["application/json"]["schema"], ERROR_CONTENT["application/json"]["schema"]]
    operation["responses"]["429"]["content"] = {"application/json": {"schema": {"anyOf": either}}}
    operation["responses"]["429"]["headers"] = {"Retry-After": RETRY_AFTER}
    operation["responses"].pop("415", None)  # any Content-Type is read
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return schemas


def _mission_fields_schemas() -> dict[str, Any]:
    """MissionFields and the schemas it refers to, as components."""
    from cloudsms.domain.mission import MissionFields

    schema = MissionFields.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "MissionFields": schema}


def _status_callback() -> tuple[dict[str, Any], dict[str, Any]]:
    """The status callback a tenant receives at its callback URL (PUT /v1/callback), as
    an OpenAPI webhook, and the schemas its body refers to."""
    from cloudsms.domain.signatures import SIGNATURE_HEADER
    from cloudsms.services.callbacks import EVENT_ID_HEADER, StatusEvent

    schema = StatusEvent.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    schemas = {**schema.pop("$defs", {}), "StatusEvent": schema}
    operation = {
        "operationId": "messageStatus",
        "summary": "A message reached a state",
        "description": "POSTed to the tenant's callback URL for each state a message reaches "
        "from SUBMITTED on. An event may come twice (the same X-CloudSMS-Event-Id) and out "
        "of order. Verify the signature over the raw body before reading it.",
        "security": [],
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "`t=<Unix time>,v1=<hex HMAC-SHA256>`, keyed with the signing "
                "secret, of `t`, a `.` and the raw body; refuse a `t` more than 5 minutes "
                "from your clock",
            },
            {
                "name": EVENT_ID_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "`<uid>.<dr_state>`: the same for each delivery of one event",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StatusEvent"}}
            },
        },
        "responses": {
            "2XX": {
                "description": "Taken, when answered within 5 s; anything else is retried "
                "with backoff, 15 attempts in all"
            }
        },
    }
    return {"messageStatus": {"post": operation}}, schemas


def _form(operation: dict[str, Any], schema: dict[str, Any]) -> None:
    operation["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {"schema": schema}},
    }


# The error's inside is a component of its own, so that a generated client names it
# (openapi-python-client made up `ErrorError` for it). `code` stays a string rather than
# an enum: a client generated today would fail to read a code added later.
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "title": "Error",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
    },
    "ErrorBody": {
        "type": "object",
        "title": "ErrorBody",
        "required": ["code", "message", "details"],
        "properties": {
            "code": {
                "type": "string",
                "description": "Stable, for a client to branch on: invalid_request, bad_request, "
                "unauthorized, forbidden, not_found, conflict, in_progress, "
                "payload_too_large, unsupported_media_type, too_many_requests, unavailable, "
                "internal_error",
            },
            "message": {"type": "string", "description": "For the person reading it"},
            "details": {"type": "array", "items": {}, "description": "Field or row problems"},
        },
    },
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


IDEMPOTENCY = (
    "The Idempotency-Key was used before with another request, or its first request is "
    "still being processed"
)
TOO_LARGE = "The number list is larger than the stack allows (NUMBER_LIST_MAX_BYTES)"
NO_TEMPLATE = "template_id names no template of the tenant's or common one"
NAME_TAKEN = "A template of this name exists already, or the template changed meanwhile"

# Refusals a handler answers besides those every operation of its kind does (see
# _errors): the conflicts, limits and outages its services raise (cloudsms.errors), and
# a 404 where the path names nothing. Keep in step with the handlers:
# tests/integration/test_openapi_contract.py calls them.
SERVICE_FAILED = "The service could not answer (502 or 504, code internal_error): try again"
# A request with an Idempotency-Key is safe to send again whatever became of the first.
RETRY_SAFE = f"{SERVICE_FAILED} with the same Idempotency-Key: nothing is done twice"
TOO_MANY_FAILED_LOG_INS = (
    "Too many failed log-ins from the caller's address (MAX_FAILED_LOGINS_PER_ADDRESS, 20, "
    "within a window of ADDRESS_WINDOW_MINUTES, 15): refused until the window ends, which "
    "the message and the Retry-After header (seconds) say; or API Gateway's throttling"
)
REQUEST_LIMIT = (
    "The tenant's request limit: its keys may send messages, "
    "create or preview missions at TENANT_REQUEST_RATE requests a second (50), in bursts of up to "
    "TENANT_REQUEST_BURST (100), unless the operator set its own. Nothing was sent or "
    "created; send it again after the seconds the Retry-After header says. Or API "
    "Gateway's throttling"
)
REFUSALS: dict[tuple[str, str], dict[str, str]] = {
    ("post", "/v1/sms"): {
        "409": f"{IDEMPOTENCY}; or the channel's prepaid packages kept changing: send again",
        "429": REQUEST_LIMIT,
        "503": "The submit queue is unavailable: nothing was sent",
        "5XX": RETRY_SAFE,
    },
    ("post", "/v1/missions"): {
        "404": NO_TEMPLATE,
        "409": IDEMPOTENCY,
        "413": TOO_LARGE,
        "429": REQUEST_LIMIT,
        "5XX": RETRY_SAFE,
    },
    ("post", "/v1/missions/preview"): {"404": NO_TEMPLATE, "413": TOO_LARGE},
    ("post", "/v1/missions/{mission_id}/cancel"): {
        "409": "The mission can no longer be cancelled (sent, cancelled, or within 5 "
        "minutes of its time), or its list arrived meanwhile",
    },
    ("patch", "/v1/missions/{mission_id}"): {
        "409": "Only a scheduled mission can be moved, until 5 minutes before its time; or "
        "it changed meanwhile: read it and try again",
    },
    ("get", "/v1/templates/number-list"): {"404": NO_TEMPLATE},
    ("post", "/v1/templates"): {"409": NAME_TAKEN},
    ("patch", "/v1/templates/{template_id}"): {"409": NAME_TAKEN},
    ("delete", "/v1/templates/{template_id}"): {"409": NAME_TAKEN},
    ("post", "/v1/admin/templates"): {"409": NAME_TAKEN},
    ("patch", "/v1/admin/templates/{template_id}"): {"409": NAME_TAKEN},
    ("delete", "/v1/admin/templates/{template_id}"): {"409": NAME_TAKEN},
    ("post", "/v1/admin/channels"): {"409": "A channel with this route_id exists already"},
    ("patch", "/v1/admin/channels/{route_id}"): {
        "409": "Another request is changing the channel's credentials: try again",
    },
    ("get", "/v1/callback"): {"404": "No callback URL is registered"},
    ("put", "/v1/callback"): {"409": "The callback changed meanwhile: try again"},
    ("delete", "/v1/callback"): {"409": "The callback changed meanwhile: try again"},
    ("post", "/v1/messages/exports"): {
        "409": "Ask for the export again",
        "429": "3 exports are being prepared already: wait until one is ready",
    },
    ("post", "/v1/captchas"): {"429": TOO_MANY_FAILED_LOG_INS},
    ("post", "/v1/sessions"): {
        "401": "The account name or the password is wrong, or the account is locked or disabled",
        "429": TOO_MANY_FAILED_LOG_INS,
    },
    ("post", "/v1/account/password"): {
        "409": "The password was changed by another request meanwhile",
    },
    ("post", "/v1/admin/accounts"): {
        "404": "No such tenant",
        "409": "An account of this name exists already",
    },
}
RECEIPT_REFUSALS = {
    "401": "The query's secret is not the channel's receipt secret",
    "404": "No such route",
}
FORBIDDEN = (
    "The key may not do this: an operator's route with a tenant's key, a portal session "
    "that must change its password first, or a channel not assigned to the tenant"
)


def _errors(
    operation: dict[str, Any], method: str, path: str, on_function_url: bool, open_route: bool
) -> None:
    """The refusals the operation answers, each with the error shape: an invalid request
    400 (the event handler documents its own default, 422, which the resolver never
    answers); behind the API, a key the authorizer refuses 401, a key that may not do it
    403, API Gateway's throttling 429, a body that is a URL-encoded form 415; a path that
    names nothing 404; the service's own failure 5XX; and those REFUSALS lists."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    refusals = {"400": "Invalid request"}
    if on_function_url:
        refusals.update(RECEIPT_REFUSALS)
    else:
        if not open_route:
            refusals.update({"401": "No valid API key", "403": FORBIDDEN})
        if "{" in path:
            refusals["404"] = "No such resource: the path names nothing that exists"
        if "requestBody" in operation:
            refusals["415"] = "The body is a URL-encoded form: send JSON (or multipart)"
        refusals["429"] = "Too many requests (API Gateway's throttling): wait and try again"
        # API Gateway's answer when a function fails or outlives the request (502, 504;
        # the template's DEFAULT_5XX): a client must know the body keeps the error shape.
        refusals["5XX"] = SERVICE_FAILED
    refusals.update(REFUSALS.get((method, path), {}))
    for status, description in sorted(refusals.items()):
        responses[status] = {"description": description, "content": ERROR_CONTENT}
    if (method, path) in LIMITED:
        responses["429"]["headers"] = {"Retry-After": RETRY_AFTER}


# The operations the tenant's request limit refuses (429 with Retry-After).
LIMITED = {("post", "/v1/sms"), ("post", "/v1/missions"), CMI}
RETRY_AFTER = {
    "description": "Whole seconds until the tenant's request limit takes the request "
    "(absent from API Gateway's own throttling)",
    "schema": {"type": "integer", "minimum": 1},
}


_STATUS = re.compile(r"status_code=(\d{3})")


def success_statuses(app: Any) -> dict[tuple[str, str], list[str]]:
    """What each route answers when it succeeds, read from its handler: the event handler
    documents every route as 200, but many answer 201, 202 or 204 (directly, or through a
    helper of their module such as `_created`)."""
    found: dict[tuple[str, str], list[str]] = {}
    for route in app._static_routes + app._dynamic_routes:
        handler = inspect.unwrap(route.func)
        module = inspect.getmodule(handler)
        helpers = {
            name: _STATUS.findall(inspect.getsource(function))
            for name, function in inspect.getmembers(module, inspect.isfunction)
            if function.__module__ == module.__name__ and function is not handler
        }
        source = inspect.getsource(handler)
        codes = set(_STATUS.findall(source))
        for name, helper_codes in helpers.items():
            if re.search(rf"\b{name}\(", source):
                codes.update(helper_codes)
        if codes:
            found[route.method.lower(), route.openapi_path] = sorted(codes)
    return found


def _success(operation: dict[str, Any], statuses: list[str]) -> None:
    """Documents the statuses a route answers on success in place of the default 200."""
    responses = operation.setdefault("responses", {})
    documented = responses.pop("200", {"description": "Successful Response"})
    for status in statuses:
        if status == "204":
            responses[status] = {"description": "No content"}
        else:
            responses[status] = documented


def _merge_schemas(into: dict[str, Any], schemas: dict[str, Any], function: str) -> None:
    for name, schema in schemas.items():
        if name in into and into[name] != schema:
            raise SystemExit(f"schema {name!r} of {function} differs from another function's")
        into[name] = schema


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    on_urls = function_url_functions()
    public = public_routes()
    order = list(TAGS)
    found = resolvers()
    for function in sorted(found, key=lambda f: order.index(f) if f in order else len(order)):
        tag = TAGS.get(function, (function, ""))[0]
        url_function = on_urls.get(function)
        schema = found[function].get_openapi_schema(title="CloudSMS", version="1")
        statuses = success_statuses(found[function])
        document = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
        found_schemas = document.get("components", {}).get("schemas", {})
        # The event handler's validation answers, which ours replace (the error shape).
        for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            found_schemas.pop(unused, None)
        _merge_schemas(schemas, found_schemas, function)
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                if method in paths.get(path, {}):
                    raise SystemExit(f"{method.upper()} {path} is served by two functions")
                operation["tags"] = [OPERATOR_TAG[0] if path.startswith("/v1/admin/") else tag]
                open_route = (method, path) in public
                if (method, path) in statuses:
                    _success(operation, statuses[method, path])
                if (method, path) in FORMS:
                    _form(operation, FORMS[method, path])
                if (method, path) in MISSION_BODIES:
                    _mission_body(operation, MISSION_BODIES[method, path])
                    _merge_schemas(schemas, _mission_fields_schemas(), function)
                _errors(operation, method, path, url_function is not None, open_route)
                if (method, path) == CMI:
                    _merge_schemas(schemas, _cmi(operation), function)
                operation["security"] = [] if open_route else SECURITY
                if (method, path) in FILES:
                    _file(operation, FILES[method, path])
                if url_function is not None:
                    _plain_text(operation)
                    server = _function_url_server(url_function)
                    operation["security"] = []
                    operation["servers"] = [
                        {"url": "{function_url}", "variables": {"function_url": server}}
                    ]
                paths.setdefault(path, {})[method] = operation
    webhooks, callback_schemas = _status_callback()
    _merge_schemas(schemas, callback_schemas, "callbacks")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CloudSMS Web API",
            "version": version("cloudsms"),
            "description": DESCRIPTION,
        },
        "servers": [{"url": "{api}", "variables": {"api": API_SERVER}}],
        "tags": [
            {"name": name, "description": text}
            for name, text in dict([*TAGS.values(), OPERATOR_TAG]).items()
        ],
        "security": SECURITY,
        "paths": dict(sorted(paths.items())),
        "webhooks": webhooks,
        "components": {
            "schemas": dict(sorted({**schemas, **ERROR_SCHEMAS}.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            sys.exit(f"{OUTPUT.relative_to(REPO_ROOT)} is out of date: run scripts/openapi.py")
        return
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
