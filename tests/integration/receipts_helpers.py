"""Channels of each gateway type, messages submitted through them, and receipts posted to
the dlr webhook the way each gateway posts them."""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from cloudsms.services import channels
from cloudsms.services.submission import submit_queued
from cloudsms.store.messages import MessageModel
from functions.dlr_webhook import app as dlr_app
from tests.integration.conftest import (
    FakeGateway,
    accepted,
    counters_of,
    function_url_event,
    queue_sms,
)

NUMBER = "+639215347566"
# 161 GSM-7 characters: two segments.
LONG_TEXT = "x" * 161
HUB_MAPPING = {
    "body": {"to": "{to}", "text": "{text}", "callback": "{receipt_url}"},
    "message_id_field": "id",
    "receipt": {
        "id_field": "id",
        "status_field": "state",
        "status_map": {"DELIVERED": "DELIVRD", "FAILED": "UNDELIV"},
        "error_field": "error",
    },
}


def add_channel(route_id: str, gateway_type: str, **more: Any) -> None:
    """A channel granted to acme, whose gateway nothing listens for (a fake stands in)."""
    if gateway_type == "http_json":
        more.setdefault("http_json", HUB_MAPPING)
    channels.add_channel(
        route_id, gateway_type, "http://127.0.0.1:9", "user", "password", "CloudSMS", **more
    )
    channels.assign_channel("acme", route_id)


def submit(
    context: Any, channel: str, carrier_id: str = "carrier-1", text: str = "Hello", to=NUMBER
) -> str:
    """Sends one SMS through `channel` and has a fake gateway accept it: it is SUBMITTED."""
    uid = queue_sms(context, to, channel=channel, text=text)
    gateway = FakeGateway(accepted(carrier_id))
    submit_queued("acme", [uid], lambda: datetime.now(UTC), gateway_factory=gateway.factory)
    return uid


def post_receipt(
    context: Any,
    channel: str,
    query: dict[str, str],
    body: Any = None,
    content_type: str = "application/x-www-form-urlencoded",
    method: str = "POST",
) -> dict[str, Any]:
    """Calls the webhook at its function URL as a gateway would: `query` is our receipt
    URL's, `body` the gateway's form (a dict), JSON document or raw text."""
    if isinstance(body, dict) and "form" in content_type:
        body = urlencode(body)
    elif body is not None and not isinstance(body, str):
        body = json.dumps(body)
    event = function_url_event(
        method, f"/dlr/{channel}", query, body, headers={"Content-Type": content_type}
    )
    return dlr_app.lambda_handler(event, context)


def ours(channel: str, uid: str | None = None) -> dict[str, str]:
    """The query of our receipt URL: the channel's secret, and the message when named."""
    query = {"secret": channels.get_channel(channel).receipt_secret}
    if uid:
        query.update({"tenant": "acme", "uid": uid})
    return query


def kannel(uid: str, channel: str, stat: str, part: str, mask: str = "1") -> dict[str, Any]:
    """Kannel's receipt for one part (%F is the part's SMSC id) as our dlr-url query."""
    return {
        **ours(channel, uid),
        "status": mask,
        "answer": f"id:{part} sub:001 dlvrd:001 stat:{stat} err:000",
        "smsc_msgid": part,
    }


def message(uid: str) -> MessageModel:
    return MessageModel.get("acme", uid)


def counted(uid: str, scope: str = "tenant#acme") -> dict[str, int]:
    return counters_of(scope, message(uid).dispatch_day)
