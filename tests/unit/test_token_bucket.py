"""The token bucket's arithmetic, against an in-memory store and an injected clock."""

import math
import random

from cloudsms.services.throughput import SLOT_MARGIN, Bucket, Grant, TokenBuckets, fitting

ROUTE = "LOW"


class FakeBucketStore:
    """A FAKE of the DynamoDB bucket store: the same conditions, held in a dict."""

    def __init__(self) -> None:
        self.full_at: dict[str, int] = {}
        self.requests = 0

    def refill(self, route_id: str, now: int, full_at: int) -> bool:
        self.requests += 1
        if route_id in self.full_at and self.full_at[route_id] > now:
            return False
        self.full_at[route_id] = full_at
        return True

    def take(self, route_id: str, now: int, cost: int, limit: int) -> int | None:
        self.requests += 1
        current = self.full_at.get(route_id)
        if current is None or not now < current <= limit:
            return None
        self.full_at[route_id] = current + cost
        return self.full_at[route_id]

    def read(self, route_id: str) -> int | None:
        self.requests += 1
        return self.full_at.get(route_id)


def _buckets(store: FakeBucketStore | None = None) -> TokenBuckets:
    return TokenBuckets(store or FakeBucketStore(), burst_seconds=1.0)


def test_a_new_bucket_grants_a_full_bucket_and_no_more():
    buckets = _buckets()

    grant = buckets.take(ROUTE, 10, [1] * 25, now=1000.0)

    assert grant.messages == 10


def test_an_empty_bucket_grants_nothing_until_a_token_comes_back():
    buckets = _buckets()
    buckets.take(ROUTE, 10, [1] * 10, now=1000.0)

    grant = buckets.take(ROUTE, 10, [1], now=1000.0)

    assert grant == Grant(0, 0.1)


def test_tokens_come_back_at_the_channels_throughput():
    buckets = _buckets()
    buckets.take(ROUTE, 10, [1] * 10, now=1000.0)

    grant = buckets.take(ROUTE, 10, [1] * 10, now=1000.5)

    assert grant.messages == 5


def test_a_bucket_never_holds_more_than_its_capacity_however_long_it_rested():
    buckets = _buckets()
    buckets.take(ROUTE, 10, [1], now=1000.0)

    grant = buckets.take(ROUTE, 10, [1] * 50, now=5000.0)

    assert grant.messages == 10


def test_segments_are_counted_not_messages():
    buckets = _buckets()

    grant = buckets.take(ROUTE, 10, [3, 3, 3, 3], now=1000.0)

    assert grant.messages == 3  # 9 segments; a fourth message would make 12


def test_the_wait_is_until_the_first_message_not_granted_fits():
    buckets = _buckets()

    grant = buckets.take(ROUTE, 10, [3, 3, 3, 3], now=1000.0)

    # 9 tokens spent of 10: the fourth message needs 2 more, 0.1 s each
    assert (grant.messages, grant.wait_seconds) == (3, 0.2)


def test_a_message_longer_than_the_whole_bucket_goes_when_the_bucket_is_full():
    buckets = _buckets()

    grant = buckets.take(ROUTE, 2, [5, 1], now=1000.0)

    assert grant.messages == 1


def test_after_a_message_longer_than_the_bucket_the_next_waits_for_its_segments():
    buckets = _buckets()
    buckets.take(ROUTE, 2, [5], now=1000.0)

    grant = buckets.take(ROUTE, 2, [1], now=1001.0)

    # five segments at 0.5 s each: full again at 1002.5, one token back at 1002.0
    assert grant == Grant(0, 1.0)


def test_a_consumer_with_a_stale_view_of_the_bucket_takes_only_what_is_left():
    store = FakeBucketStore()
    mine, theirs = _buckets(store), _buckets(store)
    mine.take(ROUTE, 10, [1], now=1000.0)

    theirs.take(ROUTE, 10, [1] * 10, now=1000.0)
    grant = mine.take(ROUTE, 10, [1] * 10, now=1000.0)

    assert grant.messages == 0


def test_a_take_usually_costs_one_request():
    store = FakeBucketStore()
    buckets = _buckets(store)
    buckets.take(ROUTE, 10, [1] * 5, now=1000.0)
    store.requests = 0

    buckets.take(ROUTE, 10, [1] * 5, now=1000.1)

    assert store.requests == 1


def test_a_bucket_reset_by_the_operator_is_seen_at_once():
    store = FakeBucketStore()
    buckets = _buckets(store)
    buckets.take(ROUTE, 10, [1] * 10, now=1000.0)

    del store.full_at[ROUTE]
    grant = buckets.take(ROUTE, 10, [1] * 10, now=1000.0)

    assert grant.messages == 10


def test_a_take_that_loses_every_race_grants_nothing_and_waits_one_interval():
    class AlwaysBeaten(FakeBucketStore):
        def refill(self, route_id, now, full_at):
            return False

        def read(self, route_id):
            return None

    grant = _buckets(AlwaysBeaten()).take(ROUTE, 4, [1], now=1000.0)

    assert grant == Grant(0, 0.25)


def test_no_window_ever_gets_more_than_capacity_plus_throughput_times_its_length():
    # Given two consumers taking random batches at random moments for a minute
    rate, store = 7, FakeBucketStore()
    consumers = [_buckets(store), _buckets(store)]
    chance = random.Random(5)
    now, granted = 1000.0, []
    while now < 1060.0:
        now += chance.uniform(0, 0.3)
        batch = [chance.choice([1, 1, 2, 3]) for _ in range(chance.randint(1, 12))]
        grant = chance.choice(consumers).take(ROUTE, rate, batch, now)
        granted.append((now, sum(batch[: grant.messages])))

    # Then every window of every length held at most a bucket plus its refill, and one
    # long message that started at the next free slot when the bucket had too few tokens
    # for it (its slots come after the bucket's, so the sending slots keep to the rate:
    # see below)
    capacity, longest = Bucket(rate, 1.0).capacity, 3
    for i, (start, _) in enumerate(granted):
        for end, _ in granted[i:]:
            in_window = sum(n for t, n in granted if start <= t <= end)
            assert in_window <= capacity + longest + rate * (end - start) + 1e-9
    assert sum(n for _, n in granted) >= rate * 55  # and the limit was used, not starved


def test_a_message_longer_than_the_tokens_left_starts_on_them_and_books_the_next_slots():
    buckets = _buckets()
    buckets.take(ROUTE, 2, [1], now=1000.0)

    grant = buckets.take(ROUTE, 2, [2, 1], now=1000.0)

    assert grant.messages == 1
    assert [grant.slot(0), grant.interval] == [1000.5, 0.5]


def test_a_full_bucket_grants_slots_one_interval_apart_from_now():
    grant = _buckets().take(ROUTE, 10, [1, 2, 1], now=1000.0)

    assert grant.messages == 3
    assert [round(grant.slot(before), 6) for before in (0, 1, 3)] == [1000.0, 1000.1, 1000.3]


def test_no_second_ever_has_more_sending_slots_than_the_throughput():
    # Given two consumers taking random batches at random moments for a minute
    rate, store = 7, FakeBucketStore()
    consumers = [_buckets(store), _buckets(store)]
    chance = random.Random(11)
    now, slots = 1000.0, []
    while now < 1060.0:
        now += chance.uniform(0, 0.3)
        batch = [chance.choice([1, 1, 2, 3]) for _ in range(chance.randint(1, 12))]
        grant = chance.choice(consumers).take(ROUTE, rate, batch, now)
        before = 0
        for segments in batch[: grant.messages]:
            first = grant.slot(before)
            assert first >= now - 1e-6  # a slot is never in the past (to the microsecond)
            slots += [first + n * grant.interval for n in range(segments)]
            before += segments

    # Then the segments' slots never overlap, and no second holds more than the rate
    slots.sort()
    assert all(b - a >= 1 / rate - 1e-6 for a, b in zip(slots, slots[1:], strict=False))
    for i, start in enumerate(slots):
        assert sum(1 for t in slots[i:] if t < start + 1.0) <= rate
    assert len(slots) >= rate * 55  # and the limit was used, not starved


def test_a_channel_of_one_segment_a_second_keeps_its_rate_through_whole_second_queue_hops():
    # Given one consumer that sends what it is granted at its slots, and puts the rest
    # back on the queue for the granted wait rounded up to whole seconds (SQS's delays),
    # each hop back taking a fifth of a second more.
    buckets, now, slots = TokenBuckets(FakeBucketStore(), 1.0, SLOT_MARGIN), 1000.0, []
    while now < 1060.0:
        granted_at = now
        grant = buckets.take(ROUTE, 1, [1] * 20, granted_at)
        for before in range(grant.messages):
            now = max(now, grant.slot(before)) + 0.01
            slots.append(grant.slot(before))
        now += math.ceil(max(0.0, granted_at + grant.wait_seconds - now)) + 0.2

    # Then the channel is used at its rate (less the slots' margin), never above it
    assert all(b - a >= SLOT_MARGIN - 1e-6 for a, b in zip(slots, slots[1:], strict=False))
    assert len(slots) >= 0.9 * 60


def test_fitting_counts_the_leading_messages_the_tokens_pay_for():
    assert fitting([2, 2, 1, 5], 5) == 3
    assert fitting([2, 2, 1, 5], 4) == 2
    assert fitting([6], 5) == 0
    assert fitting([], 5) == 0


def test_a_bucket_of_a_capacity_of_its_own_grants_that_many_and_no_more():
    # A tenant's request limit names its burst in requests, not in seconds of its rate.
    buckets = _buckets()

    grant = buckets.take(ROUTE, 10, [1] * 50, now=1000.0, capacity=25)

    assert grant.messages == 25
