"""Phone numbers are masked in every log line, wherever they appear in it."""

import io
import json
from typing import Any

from cloudsms.observability import logger


def _logged(message: str, **extra: Any) -> dict[str, Any]:
    """The JSON line the platform's logger writes for one call."""
    handler = logger.registered_handler
    written = io.StringIO()
    before = handler.setStream(written)  # type: ignore[attr-defined]
    try:
        logger.info(message, extra=extra)
    finally:
        handler.setStream(before)  # type: ignore[attr-defined]
    return json.loads(written.getvalue())  # type: ignore[no-any-return]


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
