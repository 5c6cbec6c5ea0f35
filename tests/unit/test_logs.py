"""Log lines: phone numbers masked wherever they appear, and each invocation's own keys
kept to its thread."""

import io
import json
import threading
from typing import Any

from cloudsms.observability import logger


def _lines(log: Any) -> list[dict[str, Any]]:
    """The JSON lines the platform's logger writes while `log()` runs."""
    handler = logger.registered_handler
    written = io.StringIO()
    before = handler.setStream(written)  # type: ignore[attr-defined]
    try:
        log()
    finally:
        handler.setStream(before)  # type: ignore[attr-defined]
    return [json.loads(line) for line in written.getvalue().splitlines()]


def _logged(message: str, **extra: Any) -> dict[str, Any]:
    """The JSON line the platform's logger writes for one call."""
    (line,) = _lines(lambda: logger.info(message, extra=extra))
    return line


def test_a_number_in_the_message_or_in_any_field_is_masked():
    line = _logged(
        "sent to +639215347566",
        to="+639215347566",
        recipients=["8613912345678"],
        reason={"detail": "unknown subscriber 639215347566"},
    )

    assert "9215347566" not in json.dumps(line)
    assert "13912345678" not in json.dumps(line)
    assert line["message"].startswith("sent to ") and "****" in line["message"]
    assert "****" in line["to"] and "****" in line["reason"]["detail"]


def test_ids_the_platform_draws_stay_searchable():
    line = _logged("package ordered", order="CloudSMS_202611261910417451", package="801682215590")

    assert (line["order"], line["package"]) == ("CloudSMS_202611261910417451", "801682215590")


def test_invocations_running_at_once_on_two_threads_each_log_their_own_function_name():
    both_appended = threading.Barrier(2)

    def invocation(function_name: str) -> None:
        logger.append_keys(function_name=function_name, correlation_id=f"{function_name}-1")
        both_appended.wait()  # the other invocation has appended its keys too
        logger.info("working")

    def run_both() -> None:
        threads = [threading.Thread(target=invocation, args=(n,)) for n in ("Submit", "Reports")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    lines = _lines(run_both)

    assert sorted((line["function_name"], line["correlation_id"]) for line in lines) == [
        ("Reports", "Reports-1"),
        ("Submit", "Submit-1"),
    ]
    assert {line["service"] for line in lines} == {"cloudsms"}  # start-up keys are everyone's
