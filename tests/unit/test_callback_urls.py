"""Which URLs a tenant may register for its status callbacks."""

import pytest

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
    ],
)
def test_a_url_that_is_not_public_https_is_refused(url):
    with pytest.raises(BadRequest):
        validate_url(url, allow_loopback=False)


def test_plain_http_to_this_host_is_accepted_when_running_locally():
    assert validate_url("http://127.0.0.1:8080/cb", allow_loopback=True)
