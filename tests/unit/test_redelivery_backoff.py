"""How long a failed record waits before SQS delivers it again."""

from cloudsms.services.redelivery import backoff_seconds


def test_the_wait_doubles_with_each_receipt():
    assert [backoff_seconds(n, 5, 300) for n in range(1, 7)] == [5, 10, 20, 40, 80, 160]


def test_the_wait_never_passes_the_cap():
    assert [backoff_seconds(n, 5, 300) for n in (7, 8, 30)] == [300, 300, 300]


def test_a_record_without_a_receive_count_waits_the_base():
    assert backoff_seconds(0, 5, 300) == 5
