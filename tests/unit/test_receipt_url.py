"""The URL a gateway is given to post a message's receipt to."""

import pytest

from cloudsms.carriers import registry
from cloudsms.services.channels import Channel
from cloudsms.settings import get_settings

CHANNEL = Channel(
    route_id="SIM",
    gateway_type="simulator",
    endpoint="http://gateway.example.test",
    username="user",
    password="password",
    receipt_secret="s3cret",
    default_sender=None,
    throughput=0,
)


@pytest.mark.parametrize(
    "base",
    [
        "https://abcdefgh.lambda-url.us-east-1.on.aws/",  # a function URL ends with "/"
        "https://receipts.example.test/dev",
    ],
)
def test_the_receipt_url_is_the_base_then_one_slash_then_the_channel(base, monkeypatch):
    settings = get_settings().model_copy(update={"receipt_base_url": base})
    monkeypatch.setattr(registry, "get_settings", lambda: settings)

    url = registry.receipt_url(CHANNEL, "acme", "U1")

    assert url == f"{base.rstrip('/')}/dlr/SIM?tenant=acme&uid=U1&secret=s3cret"
