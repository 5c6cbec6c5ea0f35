"""README.md's callback-verification snippet, run as a tenant would copy it, against
callbacks the callbacks function really posted. Receivers paste that snippet into their
own code: if it and the platform's signing drifted apart, every callback would be refused
(or, worse, a forged or replayed one taken) and no other test would notice."""

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cloudsms import clock
from cloudsms.domain.signatures import SIGNATURE_HEADER
from cloudsms.services.submission import submit_queued
from functions.callbacks import app as callbacks_app
from tests.integration.callback_receiver import Received
from tests.integration.conftest import FakeGateway, accepted, queue_callback_events, queue_sms
from tests.integration.submit_records import event, queued_records

README = Path(__file__).resolve().parents[2] / "README.md"
NUMBER = "+639215347566"


def readme_snippet() -> str:
    """The ```python block of README's "Status callbacks" section that defines verify."""
    section = README.read_text(encoding="utf-8").split("\n## Status callbacks\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    [snippet] = [block for block in blocks if "def verify(" in block]
    return snippet


def readme_verify(now: float | None = None) -> Callable[[str, bytes, str], bool]:
    """The snippet's `verify`, executed as written; `now`: the receiver's clock, when the
    test sets it (the snippet reads `time.time()` from its own module's globals)."""
    namespace: dict[str, Any] = {}
    exec(compile(readme_snippet(), str(README), "exec"), namespace)  # noqa: S102
    if now is not None:
        namespace["time"] = SimpleNamespace(time=lambda: now)
    return namespace["verify"]  # type: ignore[no-any-return]


@pytest.fixture
def posted(aws, registered, receiver, context) -> Received:
    """The callback the callbacks function posts for a message's SUBMITTED."""
    uid = queue_sms(context, NUMBER)
    submit_queued("acme", [uid], clock.now, FakeGateway(accepted(uid)).factory)
    queue_callback_events()
    callbacks_app.lambda_handler(event(*queued_records(aws, "CallbackQueue")), context)
    [received] = receiver.received
    return received


def signed_at(received: Received) -> int:
    return int(received.headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))


def test_the_readme_snippet_accepts_a_callback_the_platform_posted(registered, posted):
    verify = readme_verify()

    assert verify(registered, posted.body, posted.headers[SIGNATURE_HEADER])


def test_the_readme_snippet_accepts_a_callback_received_within_five_minutes(registered, posted):
    verify = readme_verify(now=signed_at(posted) + 300)

    assert verify(registered, posted.body, posted.headers[SIGNATURE_HEADER])


def test_the_readme_snippet_refuses_a_tampered_body(registered, posted):
    verify = readme_verify()
    tampered = posted.body.replace(b'"SUBMITTED"', b'"DELIVRD"')

    assert tampered != posted.body
    assert not verify(registered, tampered, posted.headers[SIGNATURE_HEADER])


def test_the_readme_snippet_refuses_a_callback_replayed_after_five_minutes(registered, posted):
    verify = readme_verify(now=signed_at(posted) + 301)

    assert not verify(registered, posted.body, posted.headers[SIGNATURE_HEADER])


def test_the_readme_snippet_refuses_another_tenants_secret(posted):
    verify = readme_verify()

    assert not verify(
        "another-tenants-signing-secret", posted.body, posted.headers[SIGNATURE_HEADER]
    )


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "v1=abc", "t=,v1=abc", "t=soon,v1=abc", "t=１７,v1=abc", "t=²,v1=abc"],
)
def test_the_readme_snippet_refuses_a_malformed_header_without_raising(header):
    # A receiver's endpoint is public: junk in the header must be a refusal, not a 500.
    verify = readme_verify()

    assert verify("secret", b"{}", header) is False


def test_the_readme_snippet_refuses_a_signature_that_is_not_ascii(registered, posted):
    verify = readme_verify()
    timestamp = posted.headers[SIGNATURE_HEADER].split(",")[0]

    assert not verify(registered, posted.body, f"{timestamp},v1=é")
