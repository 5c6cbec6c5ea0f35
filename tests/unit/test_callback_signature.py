"""The status-callback signature: HMAC-SHA256 over "<t>.<body>" with the tenant's secret."""

import hashlib
import hmac

from cloudsms.domain.signatures import signature, verify

SECRET = "whsec-test"
BODY = b'{"uid":"A1","dr_state":"DELIVRD"}'
NOW = 1_800_000_000


def test_the_signature_is_the_hmac_of_the_timestamp_and_the_body():
    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, BODY, NOW) == f"t=1800000000,v1={expected}"


def test_a_receiver_accepts_the_signature_of_the_body_it_received():
    assert verify(SECRET, BODY, signature(SECRET, BODY, NOW), now=NOW + 10)


def test_a_changed_body_fails_verification():
    header = signature(SECRET, BODY, NOW)

    assert not verify(SECRET, BODY.replace(b"DELIVRD", b"UNDELIV"), header, now=NOW)


def test_another_secret_fails_verification():
    assert not verify("another", BODY, signature(SECRET, BODY, NOW), now=NOW)


def test_an_old_signature_fails_verification_so_it_cannot_be_replayed():
    assert not verify(SECRET, BODY, signature(SECRET, BODY, NOW), now=NOW + 301)


def test_a_header_without_a_timestamp_fails_verification():
    assert not verify(SECRET, BODY, "v1=00", now=NOW)
