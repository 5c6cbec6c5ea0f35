"""Gateway adapters keep their HTTP session, and its connection, from batch to batch."""

import threading
import time
from collections.abc import Iterator

import pytest

from cloudsms.carriers.http import session_for
from cloudsms.carriers.registry import gateway_for
from cloudsms.services.channels import Channel
from tests.unit.gateway_fakes import FakeGateway, fake_gateway
from tests.unit.test_kannel_gateway import submission


@pytest.fixture
def kannel() -> Iterator[FakeGateway]:
    with fake_gateway(keep_alive=True) as fake:
        fake.reply = (202, "0: Accepted for delivery", "text/html")
        yield fake


def _channel(endpoint: str) -> Channel:
    return Channel(
        route_id="K1",
        gateway_type="kannel",
        endpoint=endpoint,
        username="cloudsms",
        password="secret",
        receipt_secret="receipt-secret",
        default_sender=None,
        throughput=0,
    )


def test_batches_sent_one_after_another_share_one_connection(kannel):
    channel = _channel(kannel.url)

    for uid in ("a", "b", "c"):  # each batch makes its adapter afresh, as submission does
        assert gateway_for(channel).submit(submission(uid=uid)).accepted

    assert kannel.connections == 1


def test_each_endpoint_and_each_thread_has_a_session_of_its_own():
    here = session_for("http://gateway-one.example.test")
    other_thread: list[object] = []
    thread = threading.Thread(
        target=lambda: other_thread.append(session_for("http://gateway-one.example.test"))
    )
    thread.start()
    thread.join()

    assert session_for("http://gateway-one.example.test") is here
    assert session_for("http://gateway-two.example.test") is not here
    assert other_thread[0] is not here


def test_the_environment_s_proxy_is_honoured_unless_the_gateway_is_exempt(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example.test")

    proxied = session_for("https://proxied.example.test/cgi-bin")
    direct = session_for("https://direct.example.test/cgi-bin")

    assert proxied.proxies.get("https") == "http://egress.example.test:3128"
    assert "https" not in direct.proxies


def test_a_connection_idle_for_too_long_is_not_used_again(kannel, monkeypatch):
    from cloudsms.carriers import http

    monkeypatch.setattr(http, "IDLE_REUSE_SECONDS", 0.05)
    channel = _channel(kannel.url)

    assert gateway_for(channel).submit(submission(uid="a")).accepted
    time.sleep(0.1)
    assert gateway_for(channel).submit(submission(uid="b")).accepted

    assert kannel.connections == 2
