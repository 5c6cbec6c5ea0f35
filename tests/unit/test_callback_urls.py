"""Which URLs a tenant may register for its status callbacks, and which URLs the
platform calls at all (a callback's, a channel's endpoint)."""

import pytest

from cloudsms.domain.urls import url_problem
from cloudsms.errors import BadRequest
from cloudsms.services.callbacks import validate_url


def test_a_public_https_url_is_accepted():
    assert validate_url("https://hooks.example.com/sms?token=x", allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/sms",  # not https
        "ftp://hooks.example.com/sms",
        "/relative",
        "https://10.0.0.5/sms",  # a private address
        "https://169.254.169.254/latest",  # link-local: instance metadata
        # the same addresses written as a resolver also reads them
        "https://0xa9fea9fe/latest",
        "https://2852039166/latest",
        "https://10.1/sms",
        "https://012.0.0.1/sms",
        "http://127.0.0.1:9001/runtime",  # loopback: the Lambda runtime API
        "http://localhost/sms",
        "https://224.0.0.1/sms",  # multicast, which Python counts as global
        "https://[::ffff:224.0.0.1]/sms",  # the same, written as IPv6
        "https://user:secret@hooks.example.com/sms",  # credentials in the URL
        # IPv4 addresses inside IPv6 ones, which Python counts as global: NAT64 (a VPC's
        # NAT gateway reaches the private IPv4 address), 6to4, IPv4-compatible
        "https://[64:ff9b::a9fe:a9fe]/latest",
        "https://[64:ff9b::10.0.0.5]/sms",
        "https://[2002:a00:5::1]/sms",
        "https://[::10.0.0.5]/sms",
        "https://[64:ff9b:1::a00:5]/sms",  # NAT64 for a network's own use
        "https://[fec0::1]/sms",  # site-local, also counted as global
    ],
)
def test_a_url_that_is_not_public_https_is_refused(url):
    with pytest.raises(BadRequest):
        validate_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url", ["https://[2606:2800:220:1::1]/sms", "https://[64:ff9b::93.184.216.34]/sms"]
)
def test_a_public_ipv6_address_or_a_public_ipv4_one_through_nat64_is_accepted(url):
    assert validate_url(url, allow_loopback=False)


def test_plain_http_to_this_host_is_accepted_when_running_locally():
    assert validate_url("http://127.0.0.1:8080/cb", allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com:99999/x",  # a port past 65535
        "https://example.com:0/x",
        "https://example.com:https/x",
        "https://exa mple.com/",  # a space in the host
        "https://example.com/\r\nX: y",  # a line break: a header of the caller's own
        "https://example.com/\u0000",
        "https://example.com/\tx",
        "https://-/",  # a label starting or ending with a hyphen
        "https://a-.example.com/",
        "https://ex_ample.com/",
        "https://999.1.1.1/",  # neither a name nor an address
        "https://[::1/",  # an IPv6 address never closed
    ],
)
def test_a_url_that_cannot_be_called_is_refused_naming_the_problem(url):
    with pytest.raises(BadRequest) as refused:
        validate_url(url, allow_loopback=False)

    [detail] = refused.value.details
    assert detail["field"] == "url"
    assert detail["reason"] == url_problem(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:13013",
        "http://[::1]:8080/cb",
        "http://kannel:13013",
        "https://xn--bcher-kva.example/sms",
        "https://hooks.example.com./sms",
        "https://hooks.example.com:1/sms",
        "https://hooks.example.com:65535/sms",
    ],
)
def test_a_host_name_or_an_address_with_a_port_in_range_can_be_called(url):
    assert url_problem(url) is None
