"""The awaiting-receipt index's partitions: a UTC hour, spread over shards by uid."""

from datetime import UTC, datetime, timedelta, timezone

from cloudsms.store.messages import (
    AWAITING_RECEIPT_SHARDS,
    awaiting_receipt_key,
    awaiting_receipt_keys,
)

SUBMITTED = datetime(2025, 11, 26, 10, 59, 59, tzinfo=UTC)


def test_a_messages_partition_is_its_utc_hour_and_a_shard():
    hour, shard = awaiting_receipt_key("01A2166209CAC64C9E", SUBMITTED).split("#")

    assert hour == "2025-11-26T10"
    assert 0 <= int(shard) < AWAITING_RECEIPT_SHARDS


def test_the_hour_is_read_in_utc_whatever_zone_the_time_is_in():
    local = SUBMITTED.astimezone(timezone(timedelta(hours=8)))

    assert awaiting_receipt_key("U1", local) == awaiting_receipt_key("U1", SUBMITTED)


def test_the_sweep_reads_every_shard_a_message_of_that_hour_can_be_in():
    keys = {awaiting_receipt_key(f"U{n}", SUBMITTED) for n in range(200)}

    assert keys == set(awaiting_receipt_keys(SUBMITTED.replace(minute=0)))
