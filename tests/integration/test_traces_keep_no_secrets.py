"""What the handlers answer and raise stays out of X-Ray traces and out of the logs the
tracer writes: answers hold secrets shown once and whole phone numbers, and an error's
message may name a number."""

import logging
from typing import Any

import pytest
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.subsegment import Subsegment

from cloudsms.errors import NotFound
from cloudsms.observability import tracer
from functions.admin import app as admin_app
from tests.integration.missions_api import call

NUMBER = "+639215347566"


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the tracer would put on a trace as metadata, were tracing on (it is off in
    tests, so each call is recorded here rather than dropped)."""
    recorded: list[tuple[str, Any]] = []

    def response(method_name=None, data=None, subsegment=None, capture_response=None):
        if data is not None and capture_response:
            recorded.append(("response", data))

    def error(method_name, error, subsegment, capture_error=None):
        if capture_error:
            recorded.append(("error", error))

    monkeypatch.setattr(tracer, "_add_response_as_metadata", response)
    monkeypatch.setattr(tracer, "_add_full_exception_as_metadata", error)
    return recorded


def test_a_callbacks_signing_secret_is_not_put_on_the_trace(aws, tenant, traced):
    status, view = call(
        admin_app, "PUT", "/v1/callback", "/v1/callback", {"url": "https://hooks.example.com/cb"}
    )

    assert status == 200, view
    assert view["signing_secret"] not in repr(traced)
    assert traced == []


def test_an_error_naming_a_number_is_neither_traced_nor_logged(aws, tenant, traced, caplog):
    caplog.set_level(logging.INFO)

    status, answer = call(admin_app, "DELETE", f"/v1/blacklist/{NUMBER}", "/v1/blacklist/{number}")

    assert status == 404, answer
    assert NUMBER in answer["error"]["message"]  # the caller is told which number
    assert traced == []
    assert "9215347566" not in caplog.text


def test_the_message_x_ray_records_of_an_error_has_its_numbers_masked():
    # What the X-Ray SDK itself writes of an exception that leaves a traced method (the
    # 404 above, were tracing on): its type, stack and message.
    segment = Segment("admin")
    subsegment = Subsegment("## delete_blacklisted", "local", segment)

    subsegment.add_exception(NotFound(f"{NUMBER} is not on the blacklist"), stack=[])

    written = subsegment.serialize()
    assert "NotFound" in written
    assert "is not on the blacklist" in written
    assert "9215347566" not in written
