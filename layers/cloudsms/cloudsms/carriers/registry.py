"""Picks the adapter for a channel's gateway type."""

from urllib.parse import urlencode

from cloudsms.carriers.base import Gateway
from cloudsms.carriers.http import session_for
from cloudsms.carriers.http_json import HttpJsonGateway
from cloudsms.carriers.jasmin import JasminGateway
from cloudsms.carriers.kannel import KannelGateway
from cloudsms.services.channels import Channel
from cloudsms.settings import get_settings


def gateway_for(channel: Channel) -> Gateway:
    timeout = get_settings().gateway_timeout_seconds
    # A hub's own URL, when its configuration has one, is where its requests go.
    hub_url = channel.http_json.url if channel.http_json is not None else None
    session = session_for(hub_url or channel.endpoint)
    login = (channel.endpoint, channel.username, channel.password)
    # The built-in simulator speaks Kannel's sendsms dialect, so one adapter drives both.
    if channel.gateway_type in ("kannel", "simulator"):
        return KannelGateway(*login, timeout=timeout, session=session)
    if channel.gateway_type == "jasmin":
        return JasminGateway(*login, timeout=timeout, session=session)
    if channel.gateway_type == "http_json" and channel.http_json is not None:
        return HttpJsonGateway(*login, channel.http_json, timeout=timeout, session=session)
    raise ValueError(f"no adapter for gateway type {channel.gateway_type!r}")


def receipt_url(channel: Channel, tenant_id: str, uid: str, hand_over: int = 0) -> str:
    """Where the gateway posts this message's receipt; the secret authenticates it.
    `hand_over` counts the times the message was handed over again after an SMSC's
    passing refusal: a receipt names the hand-over it is about."""
    base = get_settings().receipt_base_url.rstrip("/")
    fields = {"tenant": tenant_id, "uid": uid, "secret": channel.receipt_secret}
    if hand_over:
        fields["try"] = str(hand_over)
    query = urlencode(fields)
    return f"{base}/dlr/{channel.route_id}?{query}"
