"""Receipt watches' keys: a UTC hour spread over shards, and one id per batch."""

from datetime import UTC, datetime, timedelta, timezone

from cloudsms.store.receipt_watch import (
    WATCH_SHARDS,
    watch_hour_key,
    watch_id_of,
    watch_shard_key,
)

SUBMITTED = datetime(2025, 11, 26, 10, 59, 59, tzinfo=UTC)


def test_a_watchs_partition_is_its_utc_hour_and_a_shard():
    hour, shard = watch_hour_key(SUBMITTED, watch_id_of("acme", ["U1", "U2"])).split("#")

    assert hour == "2025-11-26T10"
    assert 0 <= int(shard) < WATCH_SHARDS


def test_the_hour_is_read_in_utc_whatever_zone_the_time_is_in():
    local = SUBMITTED.astimezone(timezone(timedelta(hours=8)))

    assert watch_hour_key(local, "acme#1") == watch_hour_key(SUBMITTED, "acme#1")


def test_the_sweep_reads_every_shard_a_watch_of_that_hour_can_be_in():
    keys = {watch_hour_key(SUBMITTED, watch_id_of("acme", [f"U{n}"])) for n in range(200)}

    # The sweep reads each shard of the hour (receipt_sweep: a thread each).
    hour = SUBMITTED.replace(minute=0)
    assert keys == {watch_shard_key(hour, shard) for shard in range(WATCH_SHARDS)}


def test_a_batch_delivered_again_gets_the_same_watch_whatever_the_order_of_its_messages():
    assert watch_id_of("acme", ["U1", "U2", "U3"]) == watch_id_of("acme", ["U3", "U1", "U2"])


def test_another_batch_or_another_tenant_gets_another_watch():
    ids = {
        watch_id_of("acme", ["U1", "U2"]),
        watch_id_of("acme", ["U1"]),
        watch_id_of("globex", ["U1", "U2"]),
    }

    assert len(ids) == 3
