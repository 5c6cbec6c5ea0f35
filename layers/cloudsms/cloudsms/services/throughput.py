"""Channel throughput: a token bucket per channel, in segments per second.

A channel's bucket holds `capacity` tokens (its throughput times the burst setting, at
least two) and refills at its throughput; a segment handed to the gateway spends one.
Every submit consumer takes from the same bucket in DynamoDB, so the limit holds however
many consumers run. Tokens are taken for the leading messages of a batch at once: one
conditional update for many messages.

A token is also a sending slot: the tokens a take gets are the next free slots, one
interval (1 / throughput) apart, and the consumer hands each message to the gateway at
its slot (`Grant.slot`). So a gateway never gets more than the channel's throughput in
any second, even from a full bucket or from many consumers at once; the bucket's
capacity only says how far ahead (the burst setting, 1 s) a consumer may book slots.

The bucket is kept as the moment it will be full again (`full_at`), as the generic cell
rate algorithm does: `capacity` tokens are available when `full_at` is now or past, and
each token taken moves `full_at` one interval (1 / throughput) later. `full_at` never
runs more than `capacity` intervals ahead of now, except by one message of several
segments, a verify code, or the leading message of a queue message throttled before:
when the tokens left are too few for it, it starts at the next free slot and books the
slots after it, so that a mission's messages taking each token as it comes back cannot
starve it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloudsms.services.channels import Channel, ChannelRoute
from cloudsms.settings import get_settings
from cloudsms.store.throughput import DynamoBucketStore

MICROS = 1_000_000
# Conditional updates a take tries before leaving the tokens to its rivals for now.
ATTEMPTS = 4


class BucketStore(Protocol):
    """The shared bucket state; both ways of taking are atomic conditional writes."""

    def refill(self, route_id: str, now: int, full_at: int) -> bool:
        """Sets `full_at` if the bucket is full at `now` (or has never been used)."""
        ...

    def take(self, route_id: str, now: int, cost: int, limit: int) -> int | None:
        """Adds `cost` to `full_at` if it lies after `now` and at most at `limit`;
        returns the new `full_at`, or None when the condition did not hold."""
        ...

    def read(self, route_id: str) -> int | None: ...


@dataclass(frozen=True)
class Grant:
    messages: int  # how many of the leading messages may be handed to the gateway
    wait_seconds: float  # when the first message not granted may try again (0: none left)
    # When the first granted segment may go (epoch seconds), and the seconds between
    # segments; 0 and 0 for a channel without a limit.
    first_slot: float = 0.0
    interval: float = 0.0

    def slot(self, segments_before: int) -> float:
        """When a granted message may go: after the segments granted before it."""
        return self.first_slot + segments_before * self.interval


# Slots are this much further apart than 1 / throughput: a message handed over a few
# milliseconds after its slot (as the first of a burst is) must not put one more message
# into some second than the channel allows. The channel gets 95% of its throughput.
SLOT_MARGIN = 1.05


@dataclass(frozen=True)
class Bucket:
    rate: int  # segments per second
    burst_seconds: float
    margin: float = 1.0
    # A capacity of its own, in tokens, rather than `burst_seconds` of the rate: a
    # tenant's request limit (services/request_limit.py) names its burst in requests.
    size: int = 0

    @property
    def interval(self) -> int:
        """Microseconds one token takes to come back; rounded up, so never too fast."""
        return math.ceil(MICROS * self.margin / self.rate)

    @property
    def capacity(self) -> int:
        if self.size:
            return self.size
        # At least two: the slot a consumer sends in now and the next one. A consumer
        # puts what it could not send back on the queue for whole seconds (SQS delays),
        # so a bucket of one token would leave the channel idle for most of every hop.
        return max(2, int(self.rate * self.burst_seconds))

    @property
    def depth(self) -> int:
        """How far `full_at` may run ahead of now: a full bucket's worth of intervals."""
        return self.capacity * self.interval

    def tokens(self, full_at: int, now: int) -> int:
        return min(self.capacity, (now + self.depth - full_at) // self.interval)

    def wait(self, segments: int, full_at: int, now: int) -> float:
        """Seconds until a message of `segments` can be taken."""
        if segments > self.capacity:
            ready = full_at  # longer than the whole bucket: it goes when the bucket is full
        else:
            ready = full_at - self.depth + segments * self.interval
        return max(0, ready - now) / MICROS


def fitting(segments: Sequence[int], tokens: int) -> int:
    """How many of the leading messages `tokens` pay for."""
    count = spent = 0
    for needed in segments:
        if spent + needed > tokens:
            break
        spent += needed
        count += 1
    return count


class TokenBuckets:
    def __init__(self, store: BucketStore, burst_seconds: float, margin: float = 1.0) -> None:
        self._store = store
        self._burst_seconds = burst_seconds
        self._margin = margin
        # The last `full_at` seen per channel chooses which update to try first, so that
        # a take usually costs one request; a stale guess only costs a second one.
        self._seen: dict[str, int | None] = {}

    def take(
        self,
        route_id: str,
        rate: int,
        segments: Sequence[int],
        now: float,
        urgent: bool = False,
        capacity: int = 0,
    ) -> Grant:
        """Takes tokens for as many leading messages of `segments` as the bucket allows.
        `urgent`: messages a mission must not hold back (verify codes, and those of a
        queue message throttled before), whose first goes at the next free slot when no
        token is left for it. `capacity`: the bucket's size in tokens, when not the
        burst setting's seconds of `rate`."""
        if not segments:
            return Grant(0, 0.0)
        bucket = Bucket(rate, self._burst_seconds, self._margin, capacity)
        now_us = int(now * MICROS)
        full_at = self._seen.get(route_id)
        read = False  # whether full_at comes from the store in this take, not from memory
        for _ in range(ATTEMPTS):
            if full_at is None or full_at <= now_us:
                # A full bucket lets at least one message go, however long it is.
                count = max(1, fitting(segments, bucket.capacity))
                taken = now_us + sum(segments[:count]) * bucket.interval
                if self._store.refill(route_id, now_us, taken):
                    return self._granted(route_id, bucket, segments, count, taken, now_us)
            else:
                count = fitting(segments, bucket.tokens(full_at, now_us))
                limit = now_us + bucket.depth - sum(segments[:count]) * bucket.interval
                if count == 0 and (segments[0] > 1 or urgent) and full_at <= now_us + bucket.depth:
                    # A message longer than one segment starts at the next free slot
                    # and books the slots after it, beyond the bucket's depth: waiting
                    # for its tokens to be back all at once would starve it while
                    # shorter messages take each token as it comes back (a 2-segment
                    # verify code on a channel of 2 a second, behind a mission). So does
                    # a verify code: a mission's consumer takes each token as it comes
                    # back, on time, and a code that waits for one waits for the mission;
                    # and so does any message that comes back for one after whole seconds
                    # (another tenant's, a smaller mission's), once it has been throttled.
                    count, limit = 1, now_us + bucket.depth
                # A bucket remembered empty is read before refusing: it may have been reset.
                if count == 0 and read:
                    return Grant(0, bucket.wait(segments[0], full_at, now_us))
                if count > 0:
                    cost = sum(segments[:count]) * bucket.interval
                    moved = self._store.take(route_id, now_us, cost, limit)
                    if moved is not None:
                        return self._granted(route_id, bucket, segments, count, moved, now_us)
            full_at = self._seen[route_id] = self._store.read(route_id)
            read = True
        return Grant(0, bucket.interval / MICROS)

    def wait(
        self, route_id: str, rate: int, segments: int, now: float, urgent: bool = False
    ) -> float:
        """Seconds until the bucket, read from the store, would grant a message of
        `segments` to `take` (0: it would now), `urgent` as there. Takes nothing."""
        full_at = self._seen[route_id] = self._store.read(route_id)
        if full_at is None:
            return 0.0
        bucket, now_us = Bucket(rate, self._burst_seconds, self._margin), int(now * MICROS)
        if segments > 1 or urgent:
            # As `take` grants it: a long or urgent message starts at the next free slot
            # once the bucket is booked no further than its depth, not when its tokens are
            # back, which short messages taking each token as it comes back never leave.
            return max(0, full_at - bucket.depth - now_us) / MICROS
        return bucket.wait(segments, full_at, now_us)

    def _granted(
        self,
        route_id: str,
        bucket: Bucket,
        segments: Sequence[int],
        count: int,
        full_at: int,
        now: int,
    ) -> Grant:
        self._seen[route_id] = full_at
        # The slots taken are the last `cost` before the new `full_at`.
        cost = sum(segments[:count]) * bucket.interval
        first_slot, interval = (full_at - cost) / MICROS, bucket.interval / MICROS
        wait = 0.0 if count == len(segments) else bucket.wait(segments[count], full_at, now)
        return Grant(count, wait, first_slot, interval)


_buckets = TokenBuckets(DynamoBucketStore(), get_settings().throughput_burst_seconds, SLOT_MARGIN)


def take_tokens(
    channel: Channel, segments: Sequence[int], now: datetime, urgent: bool = False
) -> Grant:
    """Tokens from the channel's bucket for the leading messages of `segments` (each
    message's segment count, in sending order). A channel without a limit grants all.
    `urgent`: the first goes at the channel's next free slot if no token is left for it
    (a verify code; a queue message throttled before)."""
    if channel.throughput <= 0:
        return Grant(len(segments), 0.0)
    return _buckets.take(
        channel.route_id, channel.throughput, segments, now.timestamp(), urgent=urgent
    )


def seconds_until_tokens(
    channel: Channel, segments: int, now: datetime, urgent: bool = False
) -> float:
    """Seconds until the channel's bucket could pay for a message of `segments` (0: it
    could now, or the channel has no limit), `urgent` as `take_tokens` takes it, without
    taking anything: one read of the bucket, where a take may cost a read and a write."""
    if channel.throughput <= 0:
        return 0.0
    return _buckets.wait(
        channel.route_id, channel.throughput, segments, now.timestamp(), urgent=urgent
    )


def slot_interval(channel: ChannelRoute) -> float:
    """Seconds between the channel's sending slots, as its bucket spaces them (0: no limit):
    what a mission is paced at, so that its queue messages come no faster than the
    channel serves them."""
    if channel.throughput <= 0:
        return 0.0
    bucket = Bucket(channel.throughput, get_settings().throughput_burst_seconds, SLOT_MARGIN)
    return bucket.interval / MICROS
