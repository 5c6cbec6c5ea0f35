"""The local API Gateway refuses what the deployed API refuses itself (an unknown route,
the authorizer's refusals) with the template's gateway responses, as the deployed API does:
in the error shape of the functions' answers, readable by the portal's origin."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cloudsms_local.api_gateway import LocalApiGateway
from cloudsms_local.template import (
    ApiRoute,
    LocalResources,
    Resolver,
    gateway_responses,
    load_template,
)

TEMPLATE = load_template()


class FailingAuthorizer:
    """Stands in for the functions: the authorizer raises."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        raise self.error


def _responses() -> dict[str, Any]:
    resolver = Resolver({"PortalOrigin": "https://portal.example.com"}, LocalResources())
    return gateway_responses(TEMPLATE["Resources"]["Api"], resolver)


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> Iterator[LocalApiGateway]:
    error = getattr(request, "param", RuntimeError("boom"))
    route = ApiRoute("Api", "GET", "/v1/sms/{uid}", "SendApiFunction", authorized=True)
    served = LocalApiGateway(
        FailingAuthorizer(error),  # type: ignore[arg-type]
        [route],
        {"Api": "AuthorizerFunction"},
        static_dir=None,
        port=0,
        gateway_responses=_responses(),
    )
    yield served
    served.server.server_close()


def _answer(gateway: LocalApiGateway, method: str, path: str) -> tuple[int, dict, dict]:
    status, headers, body = gateway.handle(method, path, {}, b"", "127.0.0.1")
    return status, headers, json.loads(body)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/nothing-here"), ("DELETE", "/v1/sms/abc")]
)
def test_an_unknown_route_or_method_is_not_found_in_the_error_shape(gateway, method, path):
    status, headers, body = _answer(gateway, method, path)

    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert headers["Access-Control-Allow-Origin"] == "https://portal.example.com"


@pytest.mark.parametrize("gateway", [Exception("Unauthorized")], indirect=True)
def test_a_key_the_authorizer_refuses_is_unauthorized_as_the_template_words_it(gateway):
    status, headers, body = _answer(gateway, "GET", "/v1/sms/abc")

    assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert headers["Access-Control-Allow-Origin"] == "https://portal.example.com"


def test_an_authorizer_that_fails_is_a_500_in_the_error_shape(gateway):
    status, _, body = _answer(gateway, "GET", "/v1/sms/abc")

    assert (status, body["error"]["code"]) == (500, "internal_error")


def test_every_gateway_response_is_in_the_error_shape_and_readable_by_the_portal():
    for kind, response in _responses().items():
        body = json.loads(response.body.replace("$context.error.messageString", '"a reason"'))

        assert set(body) == {"error"}, kind
        assert set(body["error"]) == {"code", "message", "details"}, kind
        assert response.headers == {"Access-Control-Allow-Origin": "https://portal.example.com"}


def test_the_apis_own_refusals_answer_in_the_error_shape_whatever_their_kind():
    responses = _responses()

    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"].status == 404


class Recorder:
    """Stands in for the functions: the authorizer allows all, the function's event is kept."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        if function == "AuthorizerFunction":
            statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
            return {"principalId": "k", "policyDocument": {"Statement": [statement]}}
        self.events.append(event)
        return {"statusCode": 204, "body": ""}


def test_the_function_gets_the_path_as_the_client_escaped_it():
    # As a REST API does: the event handler must decode a parameter a browser escaped.
    recorder = Recorder()
    route = ApiRoute("Api", "DELETE", "/v1/blacklist/{number}", "AdminFunction", authorized=True)
    served = LocalApiGateway(
        recorder,  # type: ignore[arg-type]
        [route],
        {"Api": "AuthorizerFunction"},
        static_dir=None,
        port=0,
        gateway_responses=_responses(),
    )
    try:
        status, _, _ = served.handle("DELETE", "/v1/blacklist/%2B15512345678", {}, b"", "::1")
    finally:
        served.server.server_close()

    [event] = recorder.events
    assert status == 204
    assert event["path"] == "/v1/blacklist/%2B15512345678"
    assert event["pathParameters"] == {"number": "%2B15512345678"}
